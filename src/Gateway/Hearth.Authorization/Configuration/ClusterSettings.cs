using System.Net;

namespace Hearth.Authorization.Configuration;

/// <summary>The Orleans side: a silo's ports and address, membership, grain calls and caches.</summary>
public sealed class ClusterSettings
{
    /// <summary>HEARTH_REDIS: cluster mode when set; null: the embedded mode.</summary>
    public string? Redis { get; init; }

    /// <summary>HEARTH_SILO_PORT (default 11111; the embedded mode picks a free port when neither silo port is set).</summary>
    public int SiloPort { get; private set; } = 11111;

    /// <summary>HEARTH_SILO_GATEWAY_PORT (default 30000; as <see cref="SiloPort"/>).</summary>
    public int SiloGatewayPort { get; private set; } = 30000;

    /// <summary>HEARTH_SILO_PORT or HEARTH_SILO_GATEWAY_PORT was set: the ports are the operator's, never changed.</summary>
    public bool SiloPortsSet { get; init; }

    /// <summary>HEARTH_METRICS_PORT: the management port serving <c>/metrics</c> (Prometheus text) on this node; null: none.</summary>
    public int? MetricsPort { get; init; }
    public IPAddress? AdvertisedAddress { get; init; }
    public string ClusterId { get; init; } = "hearth";
    public string ServiceId { get; init; } = "hearth";

    /// <summary>How long a gateway waits for a grain call (cluster mode): a call sent to a silo that died fails after this.</summary>
    public TimeSpan GrainCallTimeout { get; init; } = TimeSpan.FromSeconds(8);

    public TimeSpan PatientCache { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a silo waits for the FHIR server when it reads a Patient: within the grain call timeout.</summary>
    public TimeSpan PatientFetchTimeout { get; init; } = TimeSpan.FromSeconds(7);

    /// <summary>The embedded mode's silo ports, picked when none was set (before the silo starts).</summary>
    public void UsePickedSiloPorts(int siloPort, int siloGatewayPort)
    {
        if (SiloPortsSet)
        {
            throw new InvalidOperationException("HEARTH_SILO_PORT / HEARTH_SILO_GATEWAY_PORT were set: they are used as set.");
        }

        (SiloPort, SiloGatewayPort) = (siloPort, siloGatewayPort);
    }

    internal static ClusterSettings Read(SettingsReader r, TimeSpan upstreamTimeout, TimeSpan introspectionTimeout)
    {
        var redis = r.Text("HEARTH_REDIS");
        if (redis is not null && !RedisConnectionString.IsValid(redis))
        {
            r.Errors.Add("HEARTH_REDIS is not a valid Redis connection string (for example redis:6379 or 127.0.0.1:6379,password=...).");
        }

        var grainCallTimeout = r.Seconds("HEARTH_GRAIN_CALL_TIMEOUT_SECONDS", TimeSpan.FromSeconds(8), min: 2, max: 600);
        if (grainCallTimeout <= introspectionTimeout)
        {
            r.Errors.Add("HEARTH_GRAIN_CALL_TIMEOUT_SECONDS must be greater than HEARTH_INTROSPECTION_TIMEOUT_SECONDS.");
        }

        var settings = new ClusterSettings
        {
            Redis = redis,
            SiloPort = r.Int("HEARTH_SILO_PORT", 11111, 1, 65535),
            SiloPortsSet = r.Text("HEARTH_SILO_PORT") is not null || r.Text("HEARTH_SILO_GATEWAY_PORT") is not null,
            SiloGatewayPort = r.Int("HEARTH_SILO_GATEWAY_PORT", 30000, 1, 65535),
            MetricsPort = r.Text("HEARTH_METRICS_PORT") is null ? null : r.Int("HEARTH_METRICS_PORT", 0, 1, 65535),
            AdvertisedAddress = r.Address("HEARTH_ADVERTISED_ADDRESS"),
            ClusterId = r.Text("HEARTH_CLUSTER_ID") ?? "hearth",
            ServiceId = r.Text("HEARTH_SERVICE_ID") ?? "hearth",
            GrainCallTimeout = grainCallTimeout,
            PatientCache = r.Seconds("HEARTH_PATIENT_CACHE_SECONDS", TimeSpan.FromMinutes(5)),
            PatientFetchTimeout = upstreamTimeout < grainCallTimeout - TimeSpan.FromSeconds(1) ? upstreamTimeout : grainCallTimeout - TimeSpan.FromSeconds(1),
        };
        if (settings.SiloPort == settings.SiloGatewayPort)
        {
            r.Errors.Add("HEARTH_SILO_PORT and HEARTH_SILO_GATEWAY_PORT must differ.");
        }

        if (settings.MetricsPort is { } metrics && (metrics == settings.SiloPort || metrics == settings.SiloGatewayPort))
        {
            r.Errors.Add("HEARTH_METRICS_PORT must differ from HEARTH_SILO_PORT and HEARTH_SILO_GATEWAY_PORT.");
        }

        return settings;
    }
}
