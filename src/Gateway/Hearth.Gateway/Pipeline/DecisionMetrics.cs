using System.Collections.Frozen;
using System.Diagnostics;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// What each request was decided, counted once when the middleware is done with it:
/// <c>hearth.decisions</c> and <c>hearth.request.duration</c> (tagged interaction and decision,
/// both bounded sets: never an id, a path or a token), <c>hearth.entries.removed</c>.
/// </summary>
internal static class DecisionMetrics
{
    private static readonly FrozenDictionary<FhirInteraction, string> Interactions = Enum.GetValues<FhirInteraction>()
        .ToFrozenDictionary(i => i, i => string.Concat(i.ToString().Select((c, n) => n > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())));

    /// <summary>The interaction's name as metrics and audit give it (read, search-type, ...).</summary>
    public static string InteractionName(FhirInteraction interaction) => Interactions[interaction];

    /// <summary>
    /// The decision the client got: the refusal's (see <see cref="Refusal.Decision"/>), else permit,
    /// or redact when entries were removed from what was served; error when the request failed.
    /// </summary>
    public static string Decide(HttpContext context, Refusal? refusal, RequestState? state, bool failed)
        => failed ? "error"
            : refusal?.Decision ?? (context.Response.StatusCode >= 500 ? "error" : state is { Removed: > 0 } ? "redact" : "permit");

    public static void Record(FhirRequest? request, string decision, RequestState? state, long started)
    {
        if (!HearthTelemetry.Decisions.Enabled && !HearthTelemetry.RequestDuration.Enabled)
        {
            return; // nothing exports metrics
        }

        var tags = new TagList { { "interaction", request is null ? "unknown" : Interactions[request.Interaction] }, { "decision", decision } };
        if (state?.Ledger is { } ledger && decision is "deny" or "redact")
        {
            tags.Add("policy", ledger.DecidingPolicy); // with the Consent policy in the chain: which policy decided
        }

        HearthTelemetry.Decisions.Add(1, tags);
        HearthTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        if (decision == "redact")
        {
            HearthTelemetry.EntriesRemoved.Add(state!.Removed); // a denied answer's resources are not entries removed from what was served
        }
    }
}
