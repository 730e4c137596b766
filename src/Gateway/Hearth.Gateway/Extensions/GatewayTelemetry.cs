using Hearth.Authorization.Configuration;
using Hearth.Gateway.Pipeline;
using Hearth.ServiceDefaults;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Hearth.Gateway.Extensions;

/// <summary>
/// The gateway's telemetry: OTLP as configured (<see cref="HearthTelemetry"/>), ASP.NET Core's
/// instrumentation, and with HEARTH_METRICS_PORT a management port that serves <c>/metrics</c>
/// (OpenTelemetry's Prometheus exporter) and nothing else; the FHIR port never serves it.
/// </summary>
internal static class GatewayTelemetry
{
    public static void AddGatewayTelemetry(this WebApplicationBuilder builder, HearthSettings settings)
    {
        var metricsPort = settings.Cluster.MetricsPort;
        builder.AddHearthTelemetry(
            settings.Cluster.Redis is null ? "hearth-gateway-embedded" : "hearth-gateway",
            tracing => tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments("/readyz")),
            metrics =>
            {
                metrics.AddAspNetCoreInstrumentation();
                if (metricsPort is not null)
                {
                    metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0); // each scrape sees the latest values
                }
            },
            metricsExported: metricsPort is not null);
    }

    /// <summary>First in the pipeline: on the management port, <c>/metrics</c> or 404.</summary>
    public static void UseMetricsPort(this WebApplication app, HearthSettings settings)
    {
        if (settings.Cluster.MetricsPort is not { } port)
        {
            return;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Connection.LocalPort == port && context.Request.Path == "/metrics");
        app.Use((context, next) => context.Connection.LocalPort == port
            ? RefusalWriter.WriteOutcomeAsync(context, 404, "not-found", "The management port serves /metrics only.")
            : next(context));
    }
}
