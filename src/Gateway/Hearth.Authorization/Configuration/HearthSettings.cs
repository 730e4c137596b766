namespace Hearth.Authorization.Configuration;

/// <summary>
/// Hearth's settings: every Pauldron Hearth variable with its name and meaning, plus Hearth's own
/// <c>HEARTH_*</c> settings, grouped by who reads them: the rules (<see cref="Rules"/>, all the
/// pure core sees), the FHIR server, the authorization server, the gateway's HTTP side and the
/// cluster. Built by <see cref="Load"/>, which reports every bad value at once.
/// </summary>
public sealed class HearthSettings
{
    public const string ConfidentialitySystem = RuleSettings.ConfidentialitySystem;

    public required RuleSettings Rules { get; init; }
    public required FhirServerSettings FhirServer { get; init; }
    public required AuthorizationServerSettings AuthorizationServer { get; init; }
    public required GatewaySettings Gateway { get; init; }
    public required ClusterSettings Cluster { get; init; }

    /// <summary>
    /// Reads the settings through <paramref name="get"/> (which looks a name up in the environment
    /// and in .NET configuration). Throws <see cref="HearthConfigurationException"/> naming every
    /// bad setting.
    /// </summary>
    public static HearthSettings Load(Func<string, string?> get)
    {
        var reader = new SettingsReader(get);
        var fhirServer = FhirServerSettings.Read(reader);
        var authorizationServer = AuthorizationServerSettings.Read(reader);
        var gateway = GatewaySettings.Read(reader, authorizationServer.UmaMode);
        var settings = new HearthSettings
        {
            FhirServer = fhirServer,
            AuthorizationServer = authorizationServer,
            Rules = RuleSettings.Read(reader, fhirServer.Base, gateway.PublicBase),
            Gateway = gateway,
            Cluster = ClusterSettings.Read(reader, fhirServer.Timeout, authorizationServer.IntrospectionTimeout),
        };
        if (settings.Cluster.MetricsPort is { } metrics && metrics == gateway.Port)
        {
            reader.Errors.Add("HEARTH_METRICS_PORT must differ from PORT: the FHIR port never serves metrics.");
        }

        if (reader.Errors.Count > 0)
        {
            throw new HearthConfigurationException(reader.Errors);
        }

        return settings;
    }

    /// <summary>For logs: the settings with the protection key redacted.</summary>
    public override string ToString()
        => $"FHIR_SERVER_BASE={FhirServer.Base}, UMA_MODE={AuthorizationServer.UmaMode}, UMA_SERVER_BASE={AuthorizationServer.UmaServerBase}, "
         + $"UMA_SERVER_PROTECTION_API_KEY=<redacted>, UNPROTECTED_RESOURCE_TYPES={string.Join(',', Rules.UnprotectedResourceTypes)}, "
         + $"DESIGNATED_PATIENT_ID_SYSTEMS={string.Join(',', Rules.DesignatedPatientIdSystems)}, "
         + $"DESIGNATED_SECURITY_LABEL_SYSTEMS={string.Join(',', Rules.DesignatedSecurityLabelSystems)}, "
         + $"HEARTH_TOKEN_VALIDATION={AuthorizationServer.TokenValidation.ToString().ToLowerInvariant()}"
         + (AuthorizationServer.Jwt is { } jwt ? $", HEARTH_JWT_ISSUER={jwt.Issuer}, HEARTH_JWT_AUDIENCE={string.Join(',', jwt.Audiences)}" : "")
         + (AuthorizationServer.IntrospectionClientId is { } client ? $", HEARTH_INTROSPECTION_CLIENT_ID={client}, HEARTH_INTROSPECTION_CLIENT_SECRET=<redacted>" : "")
         + $", mode={(Cluster.Redis is null ? "embedded" : "cluster")}, HEARTH_ADMIN_KEY={(Gateway.AdminKey is null ? "unset" : "<redacted>")}";
}
