namespace Hearth.Gateway.Caching;

/// <summary>
/// Cluster mode: when this gateway loses its connection to every silo, it could miss a cache
/// announcement, so its local caches are emptied at once (and serve nothing until it subscribes
/// again) rather than at the end of the subscription's window.
/// </summary>
internal sealed class ClusterConnectionWatch(GatewayCaches caches) : IClusterConnectionStatusObserver
{
    public void NotifyClusterConnectionLost() => caches.Clear();

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways == 0)
        {
            caches.Clear();
        }
    }
}
