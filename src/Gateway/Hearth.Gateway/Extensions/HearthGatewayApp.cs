using Hearth.Authorization.Requests;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Admin;
using Hearth.Gateway.Authorization;
using Hearth.Gateway.Health;
using Hearth.Grains;
using Hearth.ServiceDefaults;
using Microsoft.AspNetCore.HttpOverrides;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Hearth.Gateway.Extensions;

/// <summary>Builds the gateway application: settings, the embedded silo, YARP and the authorization pipeline.</summary>
public static class HearthGatewayApp
{
    private const string RouteId = "fhir";

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
        // --urls / ASPNETCORE_URLS win; else Pauldron's PORT; else 8080.
        var urls = config["urls"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? $"http://0.0.0.0:{settings.Port ?? 8080}" : urls);

        builder.AddHearthOrleans(settings);
        builder.AddHearthTelemetry(settings.Redis is null ? "hearth-gateway-embedded" : "hearth-gateway");
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<HearthResponses>();
        builder.Services.AddSingleton<UmaTickets>();
        builder.Services.AddSingleton(new ResponseFilter(settings));
        builder.Services.AddSingleton(new Labeler(settings));
        builder.Services.AddSingleton(new CapabilityAugmenter(settings));
        builder.Services.AddSingleton<ResponseAuthorizer>();
        builder.Services.AddSingleton<ReferenceResolver>();
        builder.Services.AddSingleton<ResponseJudge>();
        builder.Services.AddSingleton<StoredVersions>();
        builder.Services.AddSingleton<WriteAuthorizer>();
        builder.Services.AddSingleton<BatchAuthorizer>();
        builder.Services.AddSingleton<ExportAuthorizer>();
        builder.Services.AddHttpClient(StoredVersions.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        builder.Services.AddReverseProxy()
            .LoadFromMemory([Route()], [Cluster(settings)])
            .AddTransforms(context =>
            {
                if (context.Route.RouteId != RouteId)
                {
                    return;
                }

                // The FHIR server sees neither the client's credentials nor conditional headers
                // (a 304 would skip the check), and always answers uncompressed FHIR JSON.
                foreach (var header in new[] { "Authorization", "Cookie", "Accept-Encoding", "If-None-Match", "If-Modified-Since", "If-Match", "Prefer" })
                {
                    context.AddRequestHeaderRemove(header);
                }

                context.AddRequestHeader("Accept", "application/fhir+json", append: false);
                context.AddQueryRemoveKey("access_token");
                context.AddQueryRemoveKey("_format"); // the FHIR server always answers JSON; Hearth converts
                context.AddQueryRemoveKey("_elements"); // Hearth judges whole resources and subsets after
                context.AddQueryRemoveKey("_summary");
                context.AddRequestTransform(transform =>
                {
                    // HEAD is asked as GET: Hearth needs the body to judge what the headers describe.
                    if (HttpMethods.IsHead(transform.HttpContext.Request.Method))
                    {
                        transform.ProxyRequest.Method = HttpMethod.Get;
                    }

                    // A write goes out pinned to the stored version Hearth checked.
                    var feature = transform.HttpContext.Features.Get<HearthRequestFeature>();
                    if (feature?.ExpectedVersion is { } version)
                    {
                        transform.ProxyRequest.Headers.TryAddWithoutValidation("If-Match", $"W/\"{version}\"");
                    }

                    if (feature?.ForwardMethod is { } method)
                    {
                        transform.ProxyRequest.Method = method;
                    }

                    // Bulk export: the kick-off asks for asynchronous processing; a status poll goes
                    // to the URL the FHIR server gave (kept by the export grain).
                    if (feature?.Request.Interaction == FhirInteraction.BulkExport)
                    {
                        transform.ProxyRequest.Headers.TryAddWithoutValidation("Prefer", "respond-async");
                    }

                    if (feature?.UpstreamUri is { } upstream)
                    {
                        transform.ProxyRequest.RequestUri = upstream;
                    }

                    return ValueTask.CompletedTask;
                });
                context.AddXForwarded(ForwardedTransformActions.Off);
                var authorizer = context.Services.GetRequiredService<ResponseAuthorizer>();
                context.AddResponseTransform(authorizer.TransformAsync);
            });

        configureServices?.Invoke(builder.Services);
        if (settings.TrustedProxies.Count > 0)
        {
            builder.Services.Configure<ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var proxy in settings.TrustedProxies)
                {
                    o.KnownProxies.Add(proxy);
                }
            });
        }

        var app = builder.Build();
        Formats.FhirFormats.WarmUp();
        app.UseExceptionHandler(error => error.Run(context =>
            HearthResponses.WriteOutcomeAsync(context, 500, "exception", "Hearth could not process this request.")));
        if (settings.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        if (settings.BasePath.Length > 0)
        {
            app.UsePathBase(settings.BasePath);
        }

        // Routing after the path base, so that endpoints match the path without the prefix.
        app.UseRouting();

        app.MapHealthEndpoints();
        app.MapAdminEndpoints(settings);
        app.MapReverseProxy(proxy => proxy.UseMiddleware<HearthAuthorizationMiddleware>());
        return app;
    }

    private static RouteConfig Route() => new()
    {
        RouteId = RouteId,
        ClusterId = RouteId,
        Order = int.MaxValue,
        Match = new RouteMatch { Path = "{**catch-all}" },
    };

    private static ClusterConfig Cluster(HearthSettings settings) => new()
    {
        ClusterId = RouteId,
        Destinations = new Dictionary<string, DestinationConfig> { ["fhir"] = new() { Address = settings.FhirServerBase + "/" } },
        HttpRequest = new ForwarderRequestConfig { ActivityTimeout = settings.UpstreamTimeout },
        HttpClient = new HttpClientConfig { DangerousAcceptAnyServerCertificate = false },
    };
}
