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

    /// <param name="refusal">The refusal written before there was any request state; else the state's.</param>
    /// <param name="state">The request's state (the authenticated one once there is one), when it got that far.</param>
    /// <param name="failed">The request ended in an exception (the exception handler answers 500).</param>
    public static void Record(HttpContext context, FhirRequest? request, Refusal? refusal, RequestState? state, long started, bool failed)
    {
        if (!HearthTelemetry.Decisions.Enabled && !HearthTelemetry.RequestDuration.Enabled)
        {
            return; // nothing exports metrics
        }

        refusal ??= state?.Refused;
        var decision = failed ? "error"
            : refusal?.Decision ?? (context.Response.StatusCode >= 500 ? "error" : state is { Removed: > 0 } ? "redact" : "permit");
        var tags = new TagList { { "interaction", request is null ? "unknown" : Interactions[request.Interaction] }, { "decision", decision } };
        HearthTelemetry.Decisions.Add(1, tags);
        HearthTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        if (decision == "redact")
        {
            HearthTelemetry.EntriesRemoved.Add(state!.Removed); // a denied answer's resources are not entries removed from what was served
        }
    }
}
