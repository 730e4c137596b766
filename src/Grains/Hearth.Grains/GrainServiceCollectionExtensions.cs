using Hearth.Authorization.Configuration;
using Hearth.Grains.Clients;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Hearth.Grains;

public static class GrainServiceCollectionExtensions
{
    /// <summary>What the grains need on a silo: settings, clocks, and the HTTP clients to the outside servers.</summary>
    public static IServiceCollection AddHearthGrainServices(this IServiceCollection services, HearthSettings settings)
    {
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient<IntrospectionClient>(IntrospectionClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.TryAddSingleton<PermissionRegistrationLimits>();
        services.AddHttpClient<PermissionRegistrationClient>(PermissionRegistrationClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddHttpClient<FhirResourceClient>(FhirResourceClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        return services;
    }
}
