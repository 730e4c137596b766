namespace Hearth.Gateway.Authorization;

/// <summary>Why a write is not forwarded. <see cref="Insufficient"/>: the token lacks a permission (403 insufficient_scope).</summary>
internal sealed record WriteRefusal(int Status, string IssueCode, string Diagnostics, bool Insufficient = false)
{
    public static WriteRefusal NotPermitted { get; } = new(403, "forbidden", "", Insufficient: true);
}
