using System.Globalization;
using System.Net;

namespace Hearth.Authorization.Configuration;

/// <summary>
/// Hearth's settings: every Pauldron Hearth variable with its name and meaning, plus Hearth's
/// own <c>HEARTH_*</c> settings. Built by <see cref="Load"/>, which reports every bad value at once.
/// </summary>
public sealed class HearthSettings
{
    public const string ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    public required string FhirServerBase { get; init; }
    public bool UmaMode { get; init; } = true;
    public required string UmaServerBase { get; init; }
    public string UmaServerRealm { get; init; } = "";
    public string UmaServerIntrospectionEndpoint { get; init; } = "/protection/introspection";
    public string UmaServerPermissionRegistrationEndpoint { get; init; } = "/protection/permissions";
    public string UmaServerAuthorizationEndpoint { get; init; } = "/authorization";
    public required string UmaServerProtectionApiKey { get; init; }
    public IReadOnlySet<string> UnprotectedResourceTypes { get; init; } = new HashSet<string>();
    public IReadOnlyList<string> DesignatedPatientIdSystems { get; init; } = [];
    public IReadOnlyList<string> DesignatedSecurityLabelSystems { get; init; } = [ConfidentialitySystem];
    public int? Port { get; init; }
    public bool EnableLabelingService { get; init; }
    public bool AddDefaultConfidentialityLabel { get; init; } = true;
    public string DefaultConfidentialityCode { get; init; } = "M";
    public IReadOnlySet<string> NoLabelResourceTypes { get; init; } = new HashSet<string>();
    public bool AddHighWaterMark { get; init; }
    public bool AugmentCapabilityStatement { get; init; }

    public string? Redis { get; init; }
    public string? PublicBase { get; init; }
    public string BasePath { get; init; } = "";
    public IReadOnlyList<IPAddress> TrustedProxies { get; init; } = [];
    public TimeSpan TokenCacheMax { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan InactiveTokenCache { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan PatientCache { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan IntrospectionTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a gateway waits for a grain call (cluster mode): a call sent to a silo that died fails after this.</summary>
    public TimeSpan GrainCallTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How long a silo waits for the FHIR server when it reads a Patient: within the grain call timeout.</summary>
    public TimeSpan PatientFetchTimeout => UpstreamTimeout < GrainCallTimeout - TimeSpan.FromSeconds(1) ? UpstreamTimeout : GrainCallTimeout - TimeSpan.FromSeconds(1);
    public int MaxRequestBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>The most entries a batch or transaction may have (413 above).</summary>
    public int MaxBatchEntries { get; init; } = 1000;

    /// <summary>Operations (without '$') a GET may invoke; their answers are judged like any other.</summary>
    public IReadOnlySet<string> AllowedOperations { get; init; } = DefaultOperations.ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether an <c>access_token</c> query parameter is accepted (RFC 6750 §2.3; off by default).</summary>
    public bool AllowQueryTokens { get; init; }

    /// <summary>
    /// What a search whose entries were all removed answers: an empty searchset (as if nothing had
    /// matched; the default in OAuth mode) or 403 (with a ticket in UMA mode, its default).
    /// </summary>
    public SearchAllRemoved SearchAllRemoved { get; init; } = SearchAllRemoved.Empty;

    public static readonly string[] DefaultOperations = ["everything", "lastn", "meta", "expand", "lookup", "validate-code", "translate", "subsumes"];
    public int SiloPort { get; init; } = 11111;
    public int SiloGatewayPort { get; init; } = 30000;
    public IPAddress? AdvertisedAddress { get; init; }
    public string? AdminKey { get; init; }
    public string ClusterId { get; init; } = "hearth";
    public string ServiceId { get; init; } = "hearth";

    /// <summary>The introspection endpoint's absolute URL.</summary>
    public string IntrospectionUrl => UmaServerBase + UmaServerIntrospectionEndpoint;

    /// <summary>
    /// Reads the settings through <paramref name="get"/> (which looks a name up in the environment
    /// and in .NET configuration). Throws <see cref="HearthConfigurationException"/> naming every
    /// bad setting.
    /// </summary>
    public static HearthSettings Load(Func<string, string?> get)
    {
        var errors = new List<string>();
        string? Str(string name)
        {
            var value = get(name);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        string Url(string name, bool required, string example)
        {
            var value = Str(name);
            if (value is null)
            {
                if (required)
                {
                    errors.Add($"{name} is required (for example {example}).");
                }

                return "";
            }

            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                errors.Add($"{name} must be an absolute http(s) URL without query, fragment or credentials (for example {example}).");
                return "";
            }

            return value.TrimEnd('/');
        }

        bool Bool(string name, bool fallback)
        {
            var value = Str(name);
            if (value is null)
            {
                return fallback;
            }

            if (bool.TryParse(value, out var b))
            {
                return b;
            }

            errors.Add($"{name} must be true or false.");
            return fallback;
        }

        int Int(string name, int fallback, int min, int max)
        {
            var value = Str(name);
            if (value is null)
            {
                return fallback;
            }

            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= min && i <= max)
            {
                return i;
            }

            errors.Add($"{name} must be a whole number from {min} to {max}.");
            return fallback;
        }

        TimeSpan Seconds(string name, TimeSpan fallback, int min = 0, int max = 7 * 24 * 3600)
            => TimeSpan.FromSeconds(Int(name, (int)fallback.TotalSeconds, min, max));

        string Path(string name, string fallback)
        {
            var value = Str(name) ?? fallback;
            if (!value.StartsWith('/') || value.Contains("..", StringComparison.Ordinal) || value.Contains("//", StringComparison.Ordinal) || value.Any(char.IsWhiteSpace))
            {
                errors.Add($"{name} must be a path starting with '/' (for example {fallback}).");
            }

            return value;
        }

        List<string> List(string name, IReadOnlyList<string>? fallback = null)
        {
            var value = get(name);
            if (value is null)
            {
                return fallback?.ToList() ?? [];
            }

            return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }

        var fhirBase = Url("FHIR_SERVER_BASE", required: true, "http://fhir:8080/fhir");
        var umaBase = Url("UMA_SERVER_BASE", required: true, "http://auth:8090");
        var apiKey = Str("UMA_SERVER_PROTECTION_API_KEY");
        if (apiKey is null)
        {
            errors.Add("UMA_SERVER_PROTECTION_API_KEY is required (the protection API key of the authorization server).");
        }

        int? port = Str("PORT") is null ? null : Int("PORT", 0, 1, 65535);
        var unprotected = List("UNPROTECTED_RESOURCE_TYPES");
        foreach (var type in unprotected.Where(t => !Fhir.FhirModel.R4.IsResourceType(t)))
        {
            errors.Add($"UNPROTECTED_RESOURCE_TYPES names '{type}', which is not a FHIR R4 resource type.");
        }

        var noLabel = List("NO_LABEL_RESOURCE_TYPES");
        foreach (var type in noLabel.Where(t => !Fhir.FhirModel.R4.IsResourceType(t)))
        {
            errors.Add($"NO_LABEL_RESOURCE_TYPES names '{type}', which is not a FHIR R4 resource type.");
        }

        var confidentiality = Str("DEFAULT_CONFIDENTIALITY_CODE") ?? "M";
        if (confidentiality is not ("U" or "L" or "M" or "N" or "R" or "V"))
        {
            errors.Add("DEFAULT_CONFIDENTIALITY_CODE must be one of U, L, M, N, R, V (v3-Confidentiality).");
        }

        string? publicBase = Url("HEARTH_PUBLIC_BASE", required: false, "https://fhir.example.org/r4");
        var basePath = Str("HEARTH_BASE_PATH") is null ? "" : Path("HEARTH_BASE_PATH", "/fhir").TrimEnd('/');

        var proxies = new List<IPAddress>();
        foreach (var text in List("HEARTH_TRUSTED_PROXIES"))
        {
            if (IPAddress.TryParse(text, out var ip))
            {
                proxies.Add(ip);
            }
            else
            {
                errors.Add($"HEARTH_TRUSTED_PROXIES: '{text}' is not an IP address.");
            }
        }

        IPAddress? advertised = null;
        if (Str("HEARTH_ADVERTISED_ADDRESS") is { } advertisedText)
        {
            if (IPAddress.TryParse(advertisedText, out var ip))
            {
                advertised = ip;
            }
            else
            {
                errors.Add($"HEARTH_ADVERTISED_ADDRESS: '{advertisedText}' is not an IP address.");
            }
        }

        var adminKey = Str("HEARTH_ADMIN_KEY");
        if (adminKey is { Length: < 16 })
        {
            errors.Add("HEARTH_ADMIN_KEY must be at least 16 characters long (or unset, which disables the admin endpoints).");
        }

        var redis = Str("HEARTH_REDIS");
        if (redis is not null && !RedisConnectionString.IsValid(redis))
        {
            errors.Add("HEARTH_REDIS is not a valid Redis connection string (for example redis:6379 or 127.0.0.1:6379,password=...).");
        }

        var umaMode = Bool("UMA_MODE", true);
        var allRemoved = Str("HEARTH_SEARCH_ALL_REMOVED") switch
        {
            null => umaMode ? SearchAllRemoved.Forbidden : SearchAllRemoved.Empty,
            "empty" => SearchAllRemoved.Empty,
            "forbidden" => SearchAllRemoved.Forbidden,
            _ => (SearchAllRemoved?)null,
        };
        if (allRemoved is null)
        {
            errors.Add("HEARTH_SEARCH_ALL_REMOVED must be empty or forbidden.");
        }

        var settings = new HearthSettings
        {
            FhirServerBase = fhirBase,
            UmaMode = umaMode,
            UmaServerBase = umaBase,
            UmaServerRealm = Str("UMA_SERVER_REALM") ?? "",
            UmaServerIntrospectionEndpoint = Path("UMA_SERVER_INTROSPECTION_ENDPOINT", "/protection/introspection"),
            UmaServerPermissionRegistrationEndpoint = Path("UMA_SERVER_PERMISSION_REGISTRATION_ENDPOINT", "/protection/permissions"),
            UmaServerAuthorizationEndpoint = Path("UMA_SERVER_AUTHORIZATION_ENDPOINT", "/authorization"),
            UmaServerProtectionApiKey = apiKey ?? "",
            UnprotectedResourceTypes = unprotected.ToHashSet(StringComparer.Ordinal),
            DesignatedPatientIdSystems = List("DESIGNATED_PATIENT_ID_SYSTEMS"),
            DesignatedSecurityLabelSystems = List("DESIGNATED_SECURITY_LABEL_SYSTEMS", [ConfidentialitySystem]),
            Port = port,
            EnableLabelingService = Bool("ENABLE_LABELING_SERVICE", false),
            AddDefaultConfidentialityLabel = Bool("ADD_DEFAULT_CONFIDENTIALITY_LABEL", true),
            DefaultConfidentialityCode = confidentiality,
            NoLabelResourceTypes = noLabel.ToHashSet(StringComparer.Ordinal),
            AddHighWaterMark = Bool("ADD_HIGHT_WATER_MARK", false),
            AugmentCapabilityStatement = Bool("AUGMENT_CAPABILITY_STATEMENT", false),
            Redis = redis,
            AdvertisedAddress = advertised,
            AdminKey = adminKey,
            PublicBase = string.IsNullOrEmpty(publicBase) ? null : publicBase,
            BasePath = basePath,
            TrustedProxies = proxies,
            TokenCacheMax = Seconds("HEARTH_TOKEN_CACHE_MAX_SECONDS", TimeSpan.FromHours(1), min: 1),
            InactiveTokenCache = Seconds("HEARTH_INACTIVE_TOKEN_CACHE_SECONDS", TimeSpan.FromSeconds(10)),
            PatientCache = Seconds("HEARTH_PATIENT_CACHE_SECONDS", TimeSpan.FromMinutes(5)),
            UpstreamTimeout = Seconds("HEARTH_UPSTREAM_TIMEOUT_SECONDS", TimeSpan.FromSeconds(30), min: 1, max: 3600),
            IntrospectionTimeout = Seconds("HEARTH_INTROSPECTION_TIMEOUT_SECONDS", TimeSpan.FromSeconds(5), min: 1, max: 600),
            GrainCallTimeout = Seconds("HEARTH_GRAIN_CALL_TIMEOUT_SECONDS", TimeSpan.FromSeconds(8), min: 2, max: 600),
            MaxRequestBytes = Int("HEARTH_MAX_REQUEST_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
            MaxBatchEntries = Int("HEARTH_MAX_BATCH_ENTRIES", 1000, 1, 100_000),
            AllowedOperations = List("HEARTH_ALLOWED_OPERATIONS", DefaultOperations.Select(o => "$" + o).ToList()).Select(o => o.TrimStart('$')).ToHashSet(StringComparer.Ordinal),
            AllowQueryTokens = Bool("HEARTH_ALLOW_QUERY_TOKENS", false),
            SearchAllRemoved = allRemoved ?? SearchAllRemoved.Empty,
            SiloPort = Int("HEARTH_SILO_PORT", 11111, 1, 65535),
            SiloGatewayPort = Int("HEARTH_SILO_GATEWAY_PORT", 30000, 1, 65535),
            ClusterId = Str("HEARTH_CLUSTER_ID") ?? "hearth",
            ServiceId = Str("HEARTH_SERVICE_ID") ?? "hearth",
        };

        if (settings.GrainCallTimeout <= settings.IntrospectionTimeout)
        {
            errors.Add("HEARTH_GRAIN_CALL_TIMEOUT_SECONDS must be greater than HEARTH_INTROSPECTION_TIMEOUT_SECONDS.");
        }

        if (settings.SiloPort == settings.SiloGatewayPort)
        {
            errors.Add("HEARTH_SILO_PORT and HEARTH_SILO_GATEWAY_PORT must differ.");
        }

        if (errors.Count > 0)
        {
            throw new HearthConfigurationException(errors);
        }

        return settings;
    }

    /// <summary>For logs: the settings with the protection key redacted.</summary>
    public override string ToString()
        => $"FHIR_SERVER_BASE={FhirServerBase}, UMA_MODE={UmaMode}, UMA_SERVER_BASE={UmaServerBase}, "
         + $"UMA_SERVER_PROTECTION_API_KEY=<redacted>, UNPROTECTED_RESOURCE_TYPES={string.Join(',', UnprotectedResourceTypes)}, "
         + $"DESIGNATED_PATIENT_ID_SYSTEMS={string.Join(',', DesignatedPatientIdSystems)}, "
         + $"DESIGNATED_SECURITY_LABEL_SYSTEMS={string.Join(',', DesignatedSecurityLabelSystems)}, "
         + $"mode={(Redis is null ? "embedded" : "cluster")}, HEARTH_ADMIN_KEY={(AdminKey is null ? "unset" : "<redacted>")}";
}

/// <summary>What a search whose entries were all removed answers (HEARTH_SEARCH_ALL_REMOVED).</summary>
public enum SearchAllRemoved
{
    /// <summary>200 with an empty searchset, as if nothing had matched.</summary>
    Empty,

    /// <summary>403 (UMA mode: with a ticket for what the removed entries needed); discloses that something matched.</summary>
    Forbidden,
}
