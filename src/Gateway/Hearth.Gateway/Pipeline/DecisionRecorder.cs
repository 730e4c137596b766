using System.Diagnostics;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Audit;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// Once the middleware is done with a request: what was decided, counted
/// (<see cref="DecisionMetrics"/>), set on the <c>hearth.decision</c> span, and left in the
/// <see cref="AuditTrail"/>. A singleton, so recording never opens the request's service scope.
/// </summary>
internal sealed class DecisionRecorder(AuditTrail audit)
{
    public void Record(HttpContext context, FhirRequest? request, RequestState? state, Refusal? refusal, bool failed, long started, Activity? span)
    {
        refusal ??= state?.Refused;
        var decision = DecisionMetrics.Decide(context, refusal, state, failed);
        DecisionMetrics.Record(request, decision, state, started);
        span?.SetTag("hearth.decision", decision).SetTag("hearth.interaction", request is null ? "unknown" : DecisionMetrics.InteractionName(request.Interaction))
            .SetTag("hearth.entries.removed", state?.Removed ?? 0);
        audit.Record(context, request, state, refusal, decision);
    }
}
