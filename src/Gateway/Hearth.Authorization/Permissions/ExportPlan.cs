using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// The decision on a bulk export kick-off: what the token lacks (empty: permitted) and the
/// <c>_typeFilter</c> queries (not yet URL-encoded) that the FHIR server must apply so that it
/// exports only what the token's labels allow.
/// </summary>
public sealed record ExportPlan(IReadOnlyList<RequiredPermission> Unmet, IReadOnlyList<string> TypeFilters, string? Error = null)
{
    public bool Permitted => Unmet.Count == 0 && Error is null;

    /// <summary>The <c>_security</c> token of a label, escaped for a query inside <c>_typeFilter</c>.</summary>
    public static string Token(SecurityLabel label)
        => Uri.EscapeDataString(label.System is null ? label.Code ?? "" : label.System + "|" + label.Code);
}
