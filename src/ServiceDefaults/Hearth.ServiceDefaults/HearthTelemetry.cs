using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hearth.ServiceDefaults;

/// <summary>
/// Hearth's own metrics, and OpenTelemetry export (traces and metrics, OTLP) when
/// OTEL_EXPORTER_OTLP_ENDPOINT is set. Traces follow a request from the gateway into the silo that
/// serves its grains (Orleans activity propagation). URLs' query strings stay redacted (the
/// instrumentation's default): they may carry patient data.
/// </summary>
public static class HearthTelemetry
{
    public const string MeterName = "Hearth";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Responses judged by a gateway, tagged outcome=permitted|redacted|denied.</summary>
    public static Counter<long> Responses { get; } = Meter.CreateCounter<long>("hearth.responses", description: "FHIR responses judged");

    /// <summary>Introspections made by token grains, tagged result=active|inactive|unavailable.</summary>
    public static Counter<long> Introspections { get; } = Meter.CreateCounter<long>("hearth.introspections", description: "Token introspections made");

    /// <summary>Patient reads made by patient grains, tagged result=found|not-found|unavailable.</summary>
    public static Counter<long> PatientFetches { get; } = Meter.CreateCounter<long>("hearth.patient_fetches", description: "Patient reads made to resolve references");

    /// <summary>
    /// OTLP export of traces and metrics: outbound HTTP, Orleans, Hearth's meter, and what the host
    /// adds (the gateway: its ASP.NET Core instrumentation).
    /// </summary>
    public static IHostApplicationBuilder AddHearthTelemetry(
        this IHostApplicationBuilder builder, string serviceName, Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t =>
            {
                t.AddHttpClientInstrumentation().AddSource("Microsoft.Orleans.Application");
                tracing?.Invoke(t);
            })
            .WithMetrics(m =>
            {
                m.AddHttpClientInstrumentation().AddMeter(MeterName, "Microsoft.Orleans");
                metrics?.Invoke(m);
            })
            .UseOtlpExporter();
        return builder;
    }
}
