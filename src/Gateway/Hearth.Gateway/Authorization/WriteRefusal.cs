using Hearth.Authorization.Permissions;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Why a write is not forwarded. <see cref="Insufficient"/>: the token lacks a permission (403
/// insufficient_scope); <see cref="Unmet"/> then says which (for a UMA ticket).
/// </summary>
internal sealed record WriteRefusal(int Status, string IssueCode, string Diagnostics, bool Insufficient = false)
{
    public static WriteRefusal NotPermitted { get; } = new(403, "forbidden", "", Insufficient: true);

    public IReadOnlyList<RequiredPermission> Unmet { get; init; } = [];

    public static WriteRefusal NotPermittedFor(IEnumerable<RequiredPermission> unmet) => NotPermitted with { Unmet = unmet.ToList() };
}
