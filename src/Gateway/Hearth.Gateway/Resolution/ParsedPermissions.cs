using System.Runtime.CompilerServices;
using Hearth.Authorization.Permissions;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// Parsed permission sets, remembered per <see cref="TokenInfo"/> instance. A grain call within
/// the process returns the same immutable TokenInfo each time, so a token's permissions are parsed
/// once, not on every request; the entry goes with the TokenInfo when the grain drops it. Holds no
/// state of its own: keyed by identity, nothing stale.
/// </summary>
internal static class ParsedPermissions
{
    private static readonly ConditionalWeakTable<TokenInfo, PermissionSet> Cache = new();

    public static PermissionSet For(TokenInfo info) => Cache.GetValue(info, i => PermissionSet.From(i.PermissionsJson, i.Scopes, i.Patient, i.PurposeOfUse,
        new Hearth.Authorization.Policies.ConsentRequester(i.ClientId, i.FhirUser, i.PurposeOfUse, BreakGlassAllowed: false) { Organization = i.Organization }));
}
