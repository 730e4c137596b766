using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Responses;

public enum FilterOutcome
{
    /// <summary>Everything permitted: the response as is.</summary>
    Permitted,

    /// <summary>Some Bundle entries removed.</summary>
    Redacted,

    /// <summary>Nothing permitted: 403.</summary>
    Denied,
}

/// <summary>
/// The result of filtering a response. <see cref="Body"/> is the JSON to send when the filter
/// changed it (redaction, total removed), null when the original body stands.
/// </summary>
public sealed record FilterResult(FilterOutcome Outcome, int Kept, int Removed, string? Body, Decision Reason)
{
    /// <summary>For a denied answer: what its resources would have needed (filled by the gateway, for UMA tickets).</summary>
    public IReadOnlyList<RequiredPermission> Unmet { get; init; } = [];
}
