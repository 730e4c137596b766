using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The one place an exception becomes a refusal: the FHIR server gave nothing usable (502), Hearth's
/// cluster does not answer (503), or something Hearth did not expect (500, logged by the caller,
/// never shown).
/// </summary>
internal static class Failures
{
    /// <summary>A grain call failed itself (no silo reachable, a silo died, the call timed out, the client is not connected or shutting down).</summary>
    /// <remarks>
    /// A disposed object counts only when it is Orleans' (its client shutting down, <see cref="Exception.Source"/>
    /// Orleans.Core / Orleans.Runtime): one of Hearth's own (a parsed document used after disposal) is a bug,
    /// answered 500 and logged with its stack, not passed off as the cluster being away.
    /// </remarks>
    public static bool IsClusterTransient(Exception e)
        => e is TimeoutException or OrleansException || (e is ObjectDisposedException && e.Source?.StartsWith("Orleans", StringComparison.Ordinal) == true);

    public static Refusal ToRefusal(Exception e) => e switch
    {
        UpstreamException upstream => Refusal.Problem(502, "exception", upstream.Message),
        _ when IsClusterTransient(e) => new Refusal.ClusterUnavailable(),
        _ => Refusal.Problem(500, "exception", "Hearth could not process this request."),
    };

    /// <summary>Expected failures are answered quietly; anything else is logged as a bug.</summary>
    public static bool IsExpected(Exception e) => e is UpstreamException || IsClusterTransient(e);
}
