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

    /// <summary>Hearth's own spans (traced with OTLP): a gateway's decision on a request, with its outcome; never a token, an identifier's value or content.</summary>
    public static System.Diagnostics.ActivitySource Source { get; } = new(MeterName);

    /// <summary>Responses judged by a gateway, tagged outcome=permitted|redacted|denied.</summary>
    public static Counter<long> Responses { get; } = Meter.CreateCounter<long>("hearth.responses", description: "FHIR responses judged");

    /// <summary>Introspections made by token grains, tagged result=active|inactive|unavailable.</summary>
    public static Counter<long> Introspections { get; } = Meter.CreateCounter<long>("hearth.introspections", description: "Token introspections made");

    /// <summary>Patient reads made by patient grains, tagged result=found|not-found|unavailable.</summary>
    public static Counter<long> PatientFetches { get; } = Meter.CreateCounter<long>("hearth.patient_fetches", description: "Patient reads made to resolve references");

    /// <summary>Requests decided, tagged interaction (bounded: FHIR interaction names) and decision=permit|redact|deny|unauthenticated|invalid|error.</summary>
    public static Counter<long> Decisions { get; } = Meter.CreateCounter<long>("hearth.decisions", description: "Requests decided by a gateway");

    /// <summary>Answers served because a permit for purpose BTG passed a patient's Consent deny (break-the-glass).</summary>
    public static Counter<long> BreakGlass { get; } = Meter.CreateCounter<long>("hearth.break_glass", description: "Answers served by breaking the glass past a patient's Consent");

    /// <summary>Entries removed from answers (redaction), summed.</summary>
    public static Counter<long> EntriesRemoved { get; } = Meter.CreateCounter<long>("hearth.entries.removed", description: "Entries removed from answers");

    /// <summary>A gateway's lookups of a token's grants in its own cache, tagged result=hit|miss (a miss asks the token's grain or validates the JWT).</summary>
    public static Counter<long> TokenCache { get; } = Meter.CreateCounter<long>("hearth.token.cache", description: "Token grant lookups in the gateway's cache");

    /// <summary>A gateway's lookups of a patient in its own cache, tagged result=hit|miss (a miss asks the patient's grain).</summary>
    public static Counter<long> PatientCache { get; } = Meter.CreateCounter<long>("hearth.patient.cache", description: "Patient lookups in the gateway's cache");

    /// <summary>Audit records dropped because the writer could not keep up (its buffer was full); requests never wait for it.</summary>
    public static Counter<long> AuditDropped { get; } = Meter.CreateCounter<long>("hearth.audit.dropped", description: "Audit records dropped");

    /// <summary>A request's whole time in the gateway, FHIR server included, tagged like <see cref="Decisions"/>.</summary>
    public static Histogram<double> RequestDuration { get; } = Meter.CreateHistogram("hearth.request.duration", unit: "s", description: "Time a gateway took to answer a request",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    /// <summary>How long the authorization server took to answer an introspection (that it answered), in a silo.</summary>
    public static Histogram<double> IntrospectionDuration { get; } = Meter.CreateHistogram("hearth.introspection.duration", unit: "s", description: "Time the authorization server took to answer an introspection",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    /// <summary>How long the FHIR server took from the forwarded request to its answer's headers, in a gateway: Hearth's own time is the request's less this.</summary>
    public static Histogram<double> UpstreamDuration { get; } = Meter.CreateHistogram("hearth.upstream.duration", unit: "s", description: "Time the FHIR server took to answer a forwarded request",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    /// <summary>Bucket bounds for durations in seconds (0.5 ms to 10 s), instead of the SDK's default (meant for milliseconds).</summary>
    private static IReadOnlyList<double> SecondsBuckets => [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// Metrics (outbound HTTP, Orleans, Hearth's meter, and what the host adds) when exported
    /// anywhere: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and whatever
    /// <paramref name="metrics"/> adds (the gateway: Prometheus on HEARTH_METRICS_PORT) when
    /// <paramref name="metricsExported"/>; traces with OTLP only.
    /// </summary>
    public static IHostApplicationBuilder AddHearthTelemetry(
        this IHostApplicationBuilder builder, string serviceName, Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null,
        bool metricsExported = false)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!otlp && !metricsExported)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m =>
            {
                m.AddHttpClientInstrumentation().AddMeter(MeterName, "Microsoft.Orleans");
                metrics?.Invoke(m);
            });
        if (otlp)
        {
            telemetry.WithTracing(t =>
                {
                    t.AddHttpClientInstrumentation().AddSource("Microsoft.Orleans.Application", MeterName);
                    tracing?.Invoke(t);
                })
                .UseOtlpExporter();
        }

        return builder;
    }
}
