using System.Net;
namespace Hearth.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// The real parts over loopback: Medplum's FHIR engine with the seed data, the development
/// authorization server, and one gateway (OAuth mode) shared by the collection. Tests that need
/// another configuration or cold caches start their own gateway with <see cref="StartGatewayAsync"/>.
/// </summary>
public sealed class HearthEnvironment : IAsyncLifetime
{
    public const string Conf = Permissions.Confidentiality;
    public const string ApiKey = "functional-test-key";

    private readonly HttpClient _plain = new() { Timeout = TimeSpan.FromSeconds(30) };
    private NodeServer? _fhir;
    private NodeServer? _auth;
    private NodeServer? _oidc;
    private GatewayInstance? _gateway;

    public string FhirBase => _fhir!.BaseUrl;

    public string AuthBase => _auth!.BaseUrl;

    internal GatewayInstance Gateway => _gateway!;

    public async Task InitializeAsync()
    {
        _fhir = await NodeServer.StartAsync("deploy/fhir-server/server.js");
        _auth = await NodeServer.StartAsync("deploy/dev-auth-server/server.js", new Dictionary<string, string> { ["DEV_AUTH_API_KEY"] = ApiKey });
        _oidc = await NodeServer.StartAsync("deploy/oidc-provider/server.mjs", new Dictionary<string, string> { ["DEV_OIDC_JWKS"] = TestKeys.ProviderJwks });
        _gateway = await StartGatewayAsync();
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        foreach (var server in new[] { _fhir, _auth, _oidc })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        _plain.Dispose();
    }

    /// <summary>The settings of the shared gateway, changed by <paramref name="changes"/>.</summary>
    public Dictionary<string, string?> Settings(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = FhirBase,
            ["UMA_MODE"] = "false",
            ["UMA_SERVER_BASE"] = AuthBase,
            ["UMA_SERVER_REALM"] = "hearth-test",
            ["UMA_SERVER_PROTECTION_API_KEY"] = ApiKey,
            ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
            ["UNPROTECTED_RESOURCE_TYPES"] = "Organization",
        };
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return settings;
    }

    internal Task<GatewayInstance> StartGatewayAsync(params (string Key, string? Value)[] changes) => GatewayInstance.StartAsync(Settings(changes));

    /// <summary>A gateway with services of the test's own added (an exporter that keeps spans in memory, say).</summary>
    internal Task<GatewayInstance> StartGatewayAsync(Action<IServiceCollection> configure, params (string Key, string? Value)[] changes)
        => GatewayInstance.StartAsync(Settings(changes), configure);

    /// <summary>Cluster mode on <paramref name="redisPort"/>: a fresh cluster id, and a silo process started with those settings (and <paramref name="siloOnly"/>), up.</summary>
    internal async Task<((string Key, string? Value)[] Cluster, ChildProcess Silo)> StartClusterSiloAsync(
        int redisPort, (string Key, string? Value)[] shared, params (string Key, string? Value)[] siloOnly)
    {
        (string Key, string? Value)[] cluster =
        [
            ("HEARTH_REDIS", $"127.0.0.1:{redisPort}"), ("HEARTH_CLUSTER_ID", "test-" + Guid.NewGuid().ToString("N")[..8]), ("HEARTH_ADVERTISED_ADDRESS", "127.0.0.1"), .. shared,
        ];
        var silo = ChildProcess.StartHearth("silo", "src/Silo/Hearth.Silo", Settings([.. cluster,
            ("HEARTH_SILO_PORT", TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("HEARTH_SILO_GATEWAY_PORT", TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)), .. siloOnly]));
        await silo.WaitForLineAsync(l => l.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        return (cluster, silo);
    }

    /// <summary>Reads <paramref name="path"/> until a cluster-mode gateway answers 200 (it connects to its silo first), at most 30 s.</summary>
    internal static async Task<HttpStatusCode> ReadOnceClusterAnswersAsync(GatewayInstance gateway, string path, string token)
    {
        var status = HttpStatusCode.ServiceUnavailable;
        for (var attempt = 0; attempt < 60 && status != HttpStatusCode.OK; attempt++)
        {
            using var read = await gateway.Client.GetWithTokenAsync(path, token);
            status = read.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(500);
            }
        }

        return status;
    }

    /// <summary>A gateway with a management port (HEARTH_METRICS_PORT); a port taken between picking and binding it is picked again.</summary>
    internal Task<(GatewayInstance Gateway, int MetricsPort)> StartGatewayWithMetricsAsync(params (string Key, string? Value)[] changes)
        => StartGatewayWithMetricsAsync(_ => { }, changes);

    internal async Task<(GatewayInstance Gateway, int MetricsPort)> StartGatewayWithMetricsAsync(Action<IServiceCollection> configure, params (string Key, string? Value)[] changes)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = TestPorts.Free();
            try
            {
                return (await StartGatewayAsync(configure, [.. changes, ("HEARTH_METRICS_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture))]), port);
            }
            catch (IOException) when (attempt < 5)
            {
                // address already in use: another socket took the port after it was picked
            }
        }
    }

    public DevAuthServerClient Auth => new(_plain, AuthBase);

    /// <summary>The development OpenID provider (a real one: panva's oidc-provider), signing with <see cref="TestKeys.Provider"/>.</summary>
    public OidcProviderClient Oidc => new(_plain, _oidc!.BaseUrl);

    /// <summary>
    /// Settings of a gateway that accepts the OpenID provider's tokens: JWTs validated locally,
    /// opaque tokens introspected at the provider (as the client "hearth"), as <paramref name="validation"/> says.
    /// </summary>
    public (string Key, string? Value)[] SmartSettings(string validation = "both", params (string Key, string? Value)[] more) =>
    [
        ("HEARTH_TOKEN_VALIDATION", validation),
        ("HEARTH_JWT_ISSUER", _oidc!.BaseUrl),
        ("HEARTH_JWT_AUDIENCE", OidcProviderClient.Audience),
        ("HEARTH_JWT_ALLOW_HTTP", "true"), // the development provider listens on loopback http
        ("UMA_SERVER_BASE", _oidc.BaseUrl),
        ("UMA_SERVER_INTROSPECTION_ENDPOINT", "/token/introspection"),
        ("UMA_SERVER_PROTECTION_API_KEY", null),
        ("HEARTH_INTROSPECTION_CLIENT_ID", OidcProviderClient.IntrospectionClientId),
        ("HEARTH_INTROSPECTION_CLIENT_SECRET", OidcProviderClient.IntrospectionClientSecret),
        .. more,
    ];

    public DevFhirServerClient Fhir => new(_plain, FhirBase);

    public Task<string> TokenAsync(string permissionsJson, int expiresInSeconds = 3600, string shape = "permissions", string timeUnit = "ms")
        => Auth.TokenAsync(permissionsJson, expiresInSeconds, shape, timeUnit);

    public Task<int> IntrospectionCountAsync() => Auth.IntrospectionsAsync();

    public Task<int> FhirCountAsync(string key) => Fhir.CountAsync(key);

    public Task FhirFaultAsync(string mode, int count = 1) => Fhir.FaultAsync(mode, count);

    public Task<int> FhirTotalCountAsync() => Fhir.TotalCountAsync();

    public static string Permission(string patient, string resourceType = "*", string action = "read", string labels = "\"*\"", bool deny = false, string system = "urn:official:id")
        => Permissions.For(patient, resourceType, action, labels, deny, system);

    public static string Labels(params string[] codes) => Permissions.Labels(codes);
}

[CollectionDefinition(Name)]
public sealed class HearthCollection : ICollectionFixture<HearthEnvironment>
{
    public const string Name = "Hearth over loopback";
}
