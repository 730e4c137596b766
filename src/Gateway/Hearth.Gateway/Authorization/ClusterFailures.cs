namespace Hearth.Gateway.Authorization;

/// <summary>Failures of a grain call itself (silo gone, call timed out): answered 503, never forwarded.</summary>
internal static class ClusterFailures
{
    public static bool IsTransient(Exception e) => e is TimeoutException or OrleansException;
}
