using Hearth.Authorization.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Hearth.Grains;

public static class HearthSiloBuilderExtensions
{
    /// <summary>
    /// A Hearth silo: the grains, their services, and localhost clustering on HEARTH_SILO_PORT /
    /// HEARTH_SILO_GATEWAY_PORT (the embedded mode; Redis membership comes with cluster mode).
    /// </summary>
    public static ISiloBuilder AddHearthSilo(this ISiloBuilder silo, HearthSettings settings)
    {
        silo.UseLocalhostClustering(settings.SiloPort, settings.SiloGatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(15));
        silo.Services.AddHearthGrainServices(settings);
        return silo;
    }
}
