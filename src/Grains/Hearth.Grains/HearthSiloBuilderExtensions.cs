using System.Net;
using Hearth.Authorization.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Hearth.Grains;

public static class HearthSiloBuilderExtensions
{
    /// <summary>
    /// A Hearth silo: the grains, their services, and membership. With HEARTH_REDIS the silo joins
    /// the cluster whose membership lives in Redis, on HEARTH_SILO_PORT / HEARTH_SILO_GATEWAY_PORT,
    /// advertising HEARTH_ADVERTISED_ADDRESS; without it, localhost clustering (the embedded mode).
    /// </summary>
    public static ISiloBuilder AddHearthSilo(this ISiloBuilder silo, HearthSettings settings)
    {
        if (settings.Cluster.Redis is { } redis)
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.Cluster.ClusterId;
                o.ServiceId = settings.Cluster.ServiceId;
            });
            var address = settings.Cluster.AdvertisedAddress ?? HostAddress();
            silo.ConfigureEndpoints(address, settings.Cluster.SiloPort, settings.Cluster.SiloGatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));

            // A dead silo is declared dead within ~2-3 s instead of the default ~15 s: its grains
            // re-activate elsewhere and re-fetch once (see STACK-NOTES). Silos write "I am alive"
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
        }
        else
        {
            silo.UseLocalhostClustering(settings.Cluster.SiloPort, settings.Cluster.SiloGatewayPort, serviceId: settings.Cluster.ServiceId, clusterId: settings.Cluster.ClusterId);
        }

        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(15));
        silo.AddActivityPropagation();
        silo.Services.AddHearthGrainServices(settings);
        return silo;
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
