using System.Runtime.CompilerServices;
using Hearth.Authorization.Permissions;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// Parsed permission sets, remembered per permissions string instance. A grain call within the
/// process returns the same immutable <see cref="Hearth.Grains.TokenInfo"/> (and string) each
/// time, so a token's permissions are parsed once, not on every request; the entry goes with the
/// string when the grain drops it. Holds no state of its own: keyed by identity, nothing stale.
/// </summary>
internal static class ParsedPermissions
{
    private static readonly ConditionalWeakTable<string, PermissionSet> Cache = new();

    public static PermissionSet For(string permissionsJson) => Cache.GetValue(permissionsJson, PermissionSet.Parse);
}
