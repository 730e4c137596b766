using Hearth.Authorization.Configuration;
using Hearth.ServiceDefaults;
using Hearth.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;

// A standalone Hearth silo. With HEARTH_REDIS it joins the cluster whose membership lives in
// Redis (cluster mode); without it, it clusters on localhost. The gateway's embedded mode hosts
// the same silo in-process. With HEARTH_METRICS_PORT it also serves /metrics (Prometheus text)
// on that port, and nothing else; without it, it listens on no HTTP port at all.
var options = new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory };
var probe = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables().AddCommandLine(args).Build();
var metricsWanted = !string.IsNullOrWhiteSpace(probe["HEARTH_METRICS_PORT"] ?? probe["Hearth:HEARTH_METRICS_PORT"]);
IHostApplicationBuilder builder = metricsWanted
    ? WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory })
    : Host.CreateApplicationBuilder(options);
HearthSettings settings;
try
{
    settings = HearthSettings.Load(key => builder.Configuration[key] ?? builder.Configuration[$"Hearth:{key}"]);
    var taken = ListenPorts.Taken(settings.Cluster.Redis is null ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Any,
        ("HEARTH_SILO_PORT", settings.Cluster.SiloPort), ("HEARTH_SILO_GATEWAY_PORT", settings.Cluster.SiloGatewayPort));
    if (taken.Count > 0)
    {
        throw new HearthConfigurationException(taken); // Orleans would otherwise share a port another process listens on
    }
}
catch (HearthConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

builder.UseOrleans(silo => silo.AddHearthClusterSilo(settings));
var metricsPort = settings.Cluster.MetricsPort;
builder.AddHearthTelemetry("hearth-silo",
    metrics: m => m.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0),
    metricsExported: metricsPort is not null);
if (builder is WebApplicationBuilder web)
{
    web.WebHost.UseUrls($"http://0.0.0.0:{metricsPort}");
    var app = web.Build();
    app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics");
    app.Run(context =>
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    });
    await app.RunAsync();
}
else
{
    await ((HostApplicationBuilder)builder).Build().RunAsync();
}

return 0;
