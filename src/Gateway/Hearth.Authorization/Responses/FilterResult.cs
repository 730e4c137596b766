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

    /// <summary>
    /// A Bundle judged entry by entry (a search, history, an operation's answer) whose entries were
    /// all removed: <see cref="FilterResult.Edit"/> leaves the Bundle without them (as if nothing had
    /// matched, its links kept), for HEARTH_SEARCH_ALL_REMOVED=empty.
    /// </summary>
    Emptied,
}

/// <summary>
/// The result of filtering a response. <see cref="Edit"/> is what must change in the Bundle
/// (redaction, total or counting links removed), null when the original body stands.
/// </summary>
public sealed record FilterResult(FilterOutcome Outcome, int Kept, int Removed, Decision Reason)
{
    /// <summary>For a denied answer: what its resources would have needed (filled by the gateway, for UMA tickets).</summary>
    public IReadOnlyList<RequiredPermission> Unmet { get; init; } = [];

    public BundleEdit? Edit { get; init; }

    internal ParsedResponse? Response { get; init; }

    /// <summary>The JSON to send when the filter changed the Bundle, null when the original body stands (computed when asked).</summary>
    public string? Body => Edit?.ToJson(Response!);
}
