using System.Net;
using Hearth.Authorization.Configuration;
using Hearth.Grains;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Extensions;

internal static class EmbeddedSilo
{
    /// <summary>
    /// Embedded mode (no HEARTH_REDIS): the gateway hosts a silo of its own, clustered on
    /// localhost (HEARTH_SILO_PORT / HEARTH_SILO_GATEWAY_PORT, free ports when neither is set:
    /// <see cref="ChoosePorts"/>), with Hearth's grains.
    /// </summary>
    public static ISiloBuilder AddHearthEmbeddedSilo(this ISiloBuilder silo, HearthSettings settings)
    {
        var cluster = settings.Cluster;
        silo.UseLocalhostClustering(cluster.SiloPort, cluster.SiloGatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
        return silo.AddHearthGrains(settings);
    }

    /// <summary>
    /// Before the silo starts: ports nobody else holds. Unset, two free loopback ports are picked
    /// (no one else needs to know an embedded silo's ports); set, they must be free, or start-up
    /// stops naming the setting (Orleans would otherwise share a port another process listens on).
    /// </summary>
    /// <exception cref="HearthConfigurationException">A set port is taken.</exception>
    public static void ChoosePorts(ClusterSettings cluster)
    {
        if (!cluster.SiloPortsSet)
        {
            var siloPort = ListenPorts.Free(IPAddress.Loopback);
            var gatewayPort = ListenPorts.Free(IPAddress.Loopback);
            while (gatewayPort == siloPort)
            {
                gatewayPort = ListenPorts.Free(IPAddress.Loopback);
            }

            cluster.UsePickedSiloPorts(siloPort, gatewayPort);
            return;
        }

        var taken = ListenPorts.Taken(IPAddress.Loopback, ("HEARTH_SILO_PORT", cluster.SiloPort), ("HEARTH_SILO_GATEWAY_PORT", cluster.SiloGatewayPort));
        if (taken.Count > 0)
        {
            throw new HearthConfigurationException([.. taken, "(In the embedded mode, leave both unset to have free ports picked.)"]);
        }
    }
}
