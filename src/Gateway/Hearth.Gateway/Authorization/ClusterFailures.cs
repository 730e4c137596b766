namespace Hearth.Gateway.Authorization;

/// <summary>
/// Failures of a grain call itself (no silo reachable, silo died, call timed out, client not
/// connected or shutting down): answered 503, never forwarded.
/// </summary>
internal static class ClusterFailures
{
    public static bool IsTransient(Exception e) => e is TimeoutException or OrleansException or ObjectDisposedException;
}
