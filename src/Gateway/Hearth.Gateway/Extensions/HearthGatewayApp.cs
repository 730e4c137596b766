using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Admin;
using Hearth.Gateway.Interactions;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Hearth.Gateway.Tokens;
using Hearth.Gateway.Health;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;
using Microsoft.AspNetCore.HttpOverrides;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Hearth.Gateway.Extensions;

/// <summary>Builds the gateway application: settings, the embedded silo, YARP and the authorization pipeline.</summary>
public static class HearthGatewayApp
{
    /// <summary>
    /// Builds the gateway. <paramref name="overrides"/> (tests) are added after the environment;
    /// <paramref name="configureServices"/> (tests) runs last, e.g. to replace the clock.
    /// Throws <see cref="HearthConfigurationException"/> naming every bad setting.
    /// </summary>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var config = builder.Configuration;
        var settings = HearthSettings.Load(key => config[key] ?? config[$"Hearth:{key}"]);
        Listen(builder, settings, config["urls"]);

        builder.AddHearthOrleans(settings);
        builder.AddGatewayTelemetry(settings);
        builder.Services.AddHearthAuthorization(settings);
        builder.Services.AddReverseProxy()
            .LoadFromMemory([Route()], [Cluster(settings)])
            .AddTransforms<HearthTransformProvider>();

        configureServices?.Invoke(builder.Services);
        if (settings.Gateway.TrustedProxies.Count > 0)
        {
            builder.Services.Configure<ForwardedHeadersOptions>(o => TrustProxies(o, settings.Gateway.TrustedProxies));
        }

        var app = builder.Build();
        Formats.FhirFormats.WarmUp();
        if (settings.AuthorizationServer.SenderConstraints.ClientCertificateHeader is not null)
        {
            app.Use(ClientCertificateThumbprint.Middleware(settings.AuthorizationServer.SenderConstraints)); // before the forwarded headers change the peer's address
        }

        app.UseMetricsPort(settings);
        app.UseExceptionHandler(error => error.Run(context =>
            RefusalWriter.WriteOutcomeAsync(context, 500, "exception", "Hearth could not process this request.")));
        if (settings.Gateway.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        if (settings.Gateway.BasePath.Length > 0)
        {
            app.UsePathBase(settings.Gateway.BasePath);
        }

        // Routing after the path base, so that endpoints match the path without the prefix.
        app.UseRouting();

        app.MapHealthEndpoints();
        app.MapAdminEndpoints(settings);
        app.MapReverseProxy(proxy => proxy.UseMiddleware<HearthAuthorizationMiddleware>());
        return app;
    }

    /// <summary>
    /// Where the gateway listens: --urls / ASPNETCORE_URLS win; else Pauldron's PORT; else 8080;
    /// https with HEARTH_TLS_CERTIFICATE (client certificates as HEARTH_TLS_CLIENT_CERTIFICATES says);
    /// and the management port, plain http, for /metrics only.
    /// </summary>
    private static void Listen(WebApplicationBuilder builder, HearthSettings settings, string? urls)
    {
        var tls = settings.AuthorizationServer.SenderConstraints;
        urls = string.IsNullOrWhiteSpace(urls) ? $"{(tls.TlsCertificate is null ? "http" : "https")}://0.0.0.0:{settings.Gateway.Port ?? 8080}" : urls;
        if (tls.TlsCertificate is not null)
        {
            var certificate = GatewayTls.Load(tls);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => GatewayTls.Configure(https, certificate, tls.ClientCertificates)));
        }

        var metricsPort = settings.Cluster.MetricsPort;
        builder.WebHost.UseUrls(metricsPort is null ? urls : $"{urls};http://0.0.0.0:{metricsPort}");
    }

    private static void TrustProxies(ForwardedHeadersOptions o, IReadOnlyList<System.Net.IPAddress> proxies)
    {
        o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        o.KnownProxies.Clear();
        o.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            o.KnownProxies.Add(proxy);
        }
    }

    /// <summary>The authorization pipeline's parts: the rules (pure core), then the gateway's steps, one authorizer per kind of interaction.</summary>
    private static void AddHearthAuthorization(this IServiceCollection services, HearthSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(settings.Rules);
        services.AddSingleton(settings.Gateway);
        services.AddSingleton(TimeProvider.System);

        // The rules: no I/O.
        services.AddSingleton<Adjudicator>();
        services.AddSingleton<ResponseFilter>();
        services.AddSingleton<Labeler>();
        services.AddSingleton<CapabilityAugmenter>();

        // Around every request.
        services.AddSingleton<Revocations>();
        services.AddSingleton<RevocationSync>();
        services.AddHostedService(sp => sp.GetRequiredService<RevocationSync>());
        services.AddSingleton<LocalTokens>();
        services.AddSingleton<GatewayCaches>();
        services.AddSingleton<Audit.AuditTrail>();
        services.AddHostedService<Audit.AuditWriter>();
        services.AddHostedService<Audit.AuditEventSender>();
        services.AddHttpClient(Audit.AuditEventSender.HttpClientName, c => c.Timeout = Audit.AuditEventSender.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<CacheSubscription>();
        services.AddHostedService(sp => sp.GetRequiredService<CacheSubscription>());
        if (settings.AuthorizationServer.Jwt is not null)
        {
            services.AddSingleton<SigningKeys>();
            services.AddSingleton<JwtValidator>();
            services.AddHttpClient(SigningKeys.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        }

        services.AddSingleton<DpopProofs>();
        services.AddSingleton<SenderConstraints>();
        services.AddSingleton<IssuerDiscovery>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<RequestDecider>();
        services.AddSingleton<DecisionRecorder>();
        services.AddSingleton<RefusalWriter>();
        services.AddSingleton<ReplyWriter>();

        // What the rules need to know: patients, security context, stored versions, UMA tickets.
        services.AddSingleton<ReferenceResolver>();
        services.AddSingleton<ResponseJudge>();
        services.AddSingleton<UmaTickets>();
        services.AddSingleton<StoredVersions>();
        services.AddSingleton<ExportFiles>();
        services.AddSingleton<BatchResponses>();
        services.AddSingleton<ConditionalMatches>();
        services.AddHttpClient(StoredVersions.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        services.AddInteractionAuthorizers();
    }

    /// <summary>One authorizer per kind of interaction (each handles requests no other does).</summary>
    private static void AddInteractionAuthorizers(this IServiceCollection services)
    {
        services.AddSingleton<WriteAuthorizer>();
        services.AddSingleton<OperationAuthorizer>();
        services.AddSingleton<BatchConditionals>();
        services.AddSingleton<IInteractionAuthorizer, MetadataAuthorizer>();
        services.AddSingleton<IInteractionAuthorizer, ReadAuthorizer>();
        services.AddSingleton<IInteractionAuthorizer>(sp => sp.GetRequiredService<WriteAuthorizer>());
        services.AddSingleton<IInteractionAuthorizer, ConditionalAuthorizer>();
        services.AddSingleton<IInteractionAuthorizer>(sp => sp.GetRequiredService<OperationAuthorizer>());
        services.AddSingleton<IInteractionAuthorizer, BatchAuthorizer>();
        services.AddSingleton<IInteractionAuthorizer, ExportAuthorizer>();
    }

    private static RouteConfig Route() => new()
    {
        RouteId = HearthTransformProvider.RouteId,
        ClusterId = HearthTransformProvider.RouteId,
        Order = int.MaxValue,
        Match = new RouteMatch { Path = "{**catch-all}" },
    };

    private static ClusterConfig Cluster(HearthSettings settings) => new()
    {
        ClusterId = HearthTransformProvider.RouteId,
        Destinations = new Dictionary<string, DestinationConfig> { ["fhir"] = new() { Address = settings.FhirServer.Base + "/" } },
        HttpRequest = new ForwarderRequestConfig { ActivityTimeout = settings.FhirServer.Timeout },
        HttpClient = new HttpClientConfig { DangerousAcceptAnyServerCertificate = false },
    };
}
