namespace Hearth.Authorization.Configuration;

/// <summary>The FHIR server Hearth guards: where it is, how long Hearth waits for it.</summary>
public sealed class FhirServerSettings
{
    /// <summary>FHIR_SERVER_BASE, without a trailing slash.</summary>
    public required string Base { get; init; }

    /// <summary>HEARTH_UPSTREAM_TIMEOUT_SECONDS.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    internal static FhirServerSettings Read(SettingsReader r) => new()
    {
        Base = r.Url("FHIR_SERVER_BASE", required: true, "http://fhir:8080/fhir"),
        Timeout = r.Seconds("HEARTH_UPSTREAM_TIMEOUT_SECONDS", TimeSpan.FromSeconds(30), min: 1, max: 3600),
    };
}
