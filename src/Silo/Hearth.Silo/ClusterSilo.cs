using System.Net;
using Hearth.Authorization.Configuration;
using Hearth.Grains;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Hearth.Silo;

internal static class ClusterSilo
{
    /// <summary>
    /// A silo of the cluster: with HEARTH_REDIS it joins the cluster whose membership lives in
    /// Redis, on HEARTH_SILO_PORT / HEARTH_SILO_GATEWAY_PORT, advertising
    /// HEARTH_ADVERTISED_ADDRESS; without it, it clusters on localhost (a single silo for trying
    /// things out).
    /// </summary>
    public static ISiloBuilder AddHearthClusterSilo(this ISiloBuilder silo, HearthSettings settings)
    {
        var cluster = settings.Cluster;
        if (cluster.Redis is not { } redis)
        {
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.SiloGatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            return silo.AddHearthGrains(settings);
        }

        silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        var address = cluster.AdvertisedAddress ?? HostAddress();
        silo.ConfigureEndpoints(address, cluster.SiloPort, cluster.SiloGatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));

        // A dead silo is declared dead within ~2-3 s instead of the default ~15 s: its grains
        // re-activate elsewhere and re-fetch once. Silos write "I am alive"
        // every 5 s, so that after every silo died, a new one ignores the stale entries after
        // ~10 s (default: 10 min) instead of waiting for them to answer.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            o.NumMissedTableIAmAliveLimit = 2;
        });
        return silo.AddHearthGrains(settings);
    }

    /// <summary>
    /// Without HEARTH_ADVERTISED_ADDRESS: the first IPv4 address the host name resolves to (a
    /// container's own address), else loopback.
    /// </summary>
    private static IPAddress HostAddress()
    {
        try
        {
            return Dns.GetHostAddresses(Dns.GetHostName())
                .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
                ?? IPAddress.Loopback;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return IPAddress.Loopback;
        }
    }
}
