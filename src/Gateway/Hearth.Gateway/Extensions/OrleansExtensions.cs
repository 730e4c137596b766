using Hearth.Authorization.Configuration;
using Hearth.Gateway.Caching;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Hearth.Gateway.Extensions;

internal static class OrleansExtensions
{
    /// <summary>
    /// Embedded mode (no HEARTH_REDIS): the gateway hosts its own silo. Cluster mode: the gateway is
    /// an Orleans client of the silos registered in Redis. It waits for a silo at start-up, and
    /// afterwards keeps answering (503 while no silo is reachable) and reconnects by itself.
    /// </summary>
    public static void AddHearthOrleans(this WebApplicationBuilder builder, HearthSettings settings)
    {
        var calls = new GrainCalls();
        builder.Services.AddSingleton(calls);
        if (settings.Cluster.Redis is not { } redis)
        {
            EmbeddedSilo.ChoosePorts(settings.Cluster); // throws HearthConfigurationException when a set port is taken
            builder.UseOrleans(silo => silo.AddHearthEmbeddedSilo(settings).AddOutgoingGrainCallFilter(calls.Invoke));
            return;
        }

        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.Cluster.ClusterId;
                o.ServiceId = settings.Cluster.ServiceId;
            });
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = settings.Cluster.GrainCallTimeout);
            client.UseConnectionRetryFilter<RetryUntilASiloAnswers>();
            client.AddActivityPropagation();
            client.AddOutgoingGrainCallFilter(calls.Invoke);
            client.Services.AddSingleton<IClusterConnectionStatusObserver, ClusterConnectionWatch>();
        });
    }
}
