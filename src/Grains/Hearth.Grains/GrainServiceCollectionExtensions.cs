using Hearth.Authorization.Configuration;
using Hearth.Grains.Clients;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;

namespace Hearth.Grains;

/// <summary>Hearth's grains on a silo, whichever hosts it (the cluster silo, or a gateway in embedded mode).</summary>
public static class GrainServiceCollectionExtensions
{
    /// <summary>The grains' lifetimes and tracing, and what they need: settings, a clock, the HTTP clients to the outside servers.</summary>
    public static ISiloBuilder AddHearthGrains(this ISiloBuilder silo, HearthSettings settings)
    {
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(15));
        silo.AddActivityPropagation();
        silo.Services.AddHearthGrainServices(settings);
        return silo;
    }

    /// <summary>Settings, clocks, and the HTTP clients to the outside servers (no redirects followed; connections renewed every 5 minutes for DNS changes).</summary>
    public static IServiceCollection AddHearthGrainServices(this IServiceCollection services, HearthSettings settings)
    {
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient<IntrospectionClient>(IntrospectionClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(Handler);
        services.TryAddSingleton<PermissionRegistrationLimits>();
        services.AddHttpClient<PermissionRegistrationClient>(PermissionRegistrationClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(Handler);
        services.AddHttpClient<FhirResourceClient>(FhirResourceClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(Handler);
        return services;
    }

    private static SocketsHttpHandler Handler() => new() { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
}
