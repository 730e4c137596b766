namespace Hearth.Authorization.Configuration;

/// <summary>What the authorization rules judge by: the pure core reads these and nothing else.</summary>
public sealed class RuleSettings
{
    public const string ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    /// <summary>FHIR_SERVER_BASE: references under it are the FHIR server's own.</summary>
    public required string FhirServerBase { get; init; }

    /// <summary>HEARTH_PUBLIC_BASE, when set: references under it name the same resources as under the FHIR server's base.</summary>
    public string? GatewayBase { get; init; }

    public IReadOnlySet<string> UnprotectedResourceTypes { get; init; } = new HashSet<string>();
    public IReadOnlyList<string> DesignatedPatientIdSystems { get; init; } = [];
    public IReadOnlyList<string> DesignatedSecurityLabelSystems { get; init; } = [ConfidentialitySystem];
    public string DefaultConfidentialityCode { get; init; } = "M";

    /// <summary>
    /// Operations (without '$') beside <see cref="Requests.Operations.Table"/> that only read
    /// (HEARTH_ALLOWED_OPERATIONS): invoked at any level, by GET or POST, judged by their answer.
    /// </summary>
    public IReadOnlySet<string> AllowedOperations { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public bool EnableLabelingService { get; init; }
    public bool AddDefaultConfidentialityLabel { get; init; } = true;
    public IReadOnlySet<string> NoLabelResourceTypes { get; init; } = new HashSet<string>();
    public bool AddHighWaterMark { get; init; }

    /// <summary>
    /// The policy chain, in order (HEARTH_POLICIES, default <c>token</c>): <c>token</c> (the
    /// token's Pauldron permissions and SMART scopes, always first), then <c>consent</c> (the
    /// patients' privacy Consents and label obligations). A deny anywhere wins; only the token
    /// policy permits. The names are those of <see cref="Policies.PolicyChain.Registered"/>.
    /// </summary>
    public IReadOnlyList<string> Policies { get; init; } = ["token"];

    /// <summary>Whether the Consent policy is in the chain.</summary>
    public bool ConsentPolicy => Policies.Contains("consent");

    /// <summary>The clients whose purpose of use BTG may pass a Consent's deny that permits it (HEARTH_BTG_CLIENTS).</summary>
    public IReadOnlySet<string> BreakGlassClients { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    internal static RuleSettings Read(SettingsReader r, string fhirServerBase, string? gatewayBase)
    {
        var confidentiality = r.Text("DEFAULT_CONFIDENTIALITY_CODE") ?? "M";
        if (confidentiality is not ("U" or "L" or "M" or "N" or "R" or "V"))
        {
            r.Errors.Add("DEFAULT_CONFIDENTIALITY_CODE must be one of U, L, M, N, R, V (v3-Confidentiality).");
        }

        var policies = r.List("HEARTH_POLICIES", ["token"]);
        if (Hearth.Authorization.Policies.PolicyChain.Problem(policies) is { } problem)
        {
            r.Errors.Add($"HEARTH_POLICIES lists the policies in order, e.g. token,consent: {problem}.");
        }

        return new RuleSettings
        {
            Policies = policies,
            BreakGlassClients = r.List("HEARTH_BTG_CLIENTS", []).ToHashSet(StringComparer.Ordinal),
            FhirServerBase = fhirServerBase,
            GatewayBase = gatewayBase,
            UnprotectedResourceTypes = r.ResourceTypes("UNPROTECTED_RESOURCE_TYPES"),
            DesignatedPatientIdSystems = r.List("DESIGNATED_PATIENT_ID_SYSTEMS"),
            DesignatedSecurityLabelSystems = r.List("DESIGNATED_SECURITY_LABEL_SYSTEMS", [ConfidentialitySystem]),
            DefaultConfidentialityCode = confidentiality,
            AllowedOperations = r.List("HEARTH_ALLOWED_OPERATIONS", []).Select(o => o.TrimStart('$')).ToHashSet(StringComparer.Ordinal),
            EnableLabelingService = r.Bool("ENABLE_LABELING_SERVICE", false),
            AddDefaultConfidentialityLabel = r.Bool("ADD_DEFAULT_CONFIDENTIALITY_LABEL", true),
            NoLabelResourceTypes = r.ResourceTypes("NO_LABEL_RESOURCE_TYPES"),
            AddHighWaterMark = r.Bool("ADD_HIGHT_WATER_MARK", false),
        };
    }
}
