using Hearth.Authorization.Configuration;
using Hearth.Grains;

namespace Hearth.Gateway.Extensions;

internal static class EmbeddedSilo
{
    /// <summary>
    /// Embedded mode (no HEARTH_REDIS): the gateway hosts a silo of its own, clustered on
    /// localhost (HEARTH_SILO_PORT / HEARTH_SILO_GATEWAY_PORT), with Hearth's grains.
    /// </summary>
    public static ISiloBuilder AddHearthEmbeddedSilo(this ISiloBuilder silo, HearthSettings settings)
    {
        var cluster = settings.Cluster;
        silo.UseLocalhostClustering(cluster.SiloPort, cluster.SiloGatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
        return silo.AddHearthGrains(settings);
    }
}
