using System.Net;
using System.Net.Http.Headers;

namespace Hearth.Cluster.Tests;

/// <summary>
/// Hearth in cluster mode, every part a real process on 127.0.0.1: Redis (membership), Medplum's
/// FHIR engine, the development authorization server, two silos and two gateways. A fresh
/// cluster id per fixture, so no earlier run's members are ever in the way.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string ApiKey = "cluster-test-key";
    public const string AdminKey = "cluster-admin-key-0123456789";

    private readonly List<ChildProcess> _silos = [];
    private readonly string _clusterId = "cluster-test-" + Guid.NewGuid().ToString("N")[..8];
    private ChildProcess? _redis;
    private NodeServer? _fhir;
    private NodeServer? _auth;
    private NodeServer? _oidc;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public int RedisPort { get; private set; }

    public string FhirBase => _fhir!.BaseUrl;

    public string AuthBase => _auth!.BaseUrl;

    public List<Gateway> Gateways { get; } = [];

    public IReadOnlyList<ChildProcess> Silos => _silos;

    public ChildProcess Redis => _redis!;

    public async Task InitializeAsync()
    {
        (_redis, var port) = await RedisServer.StartAsync();
        RedisPort = port;
        _fhir = await NodeServer.StartAsync("deploy/fhir-server/server.js");
        _auth = await NodeServer.StartAsync("deploy/dev-auth-server/server.js", new Dictionary<string, string> { ["DEV_AUTH_API_KEY"] = ApiKey });
        _oidc = await NodeServer.StartAsync("deploy/oidc-provider/server.mjs");
        await Task.WhenAll(StartSiloAsync(), StartSiloAsync());
        for (var i = 0; i < 2; i++)
        {
            var gatewayPort = TestPorts.Free();
            var env = Environment(("PORT", gatewayPort.ToString()));
            var process = ChildProcess.StartHearth($"gateway{i + 1}", "src/Gateway/Hearth.Gateway", env);
            Gateways.Add(new Gateway(process, $"http://127.0.0.1:{gatewayPort}"));
        }

        foreach (var gateway in Gateways)
        {
            await WaitUntilAsync(async () => (await gateway.GetAsync("readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(90), $"{gateway.Process.Name} ready");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in Gateways)
        {
            await gateway.Process.DisposeAsync();
            gateway.Client.Dispose();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        foreach (var server in new[] { _fhir, _auth, _oidc })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        Http.Dispose();
    }

    /// <summary>Starts a silo on fresh ports and waits until it has joined the cluster.</summary>
    public async Task<ChildProcess> StartSiloAsync()
    {
        ChildProcess silo;
        lock (_silos)
        {
            silo = ChildProcess.StartHearth($"silo{_silos.Count + 1}", "src/Silo/Hearth.Silo",
                Environment(("HEARTH_SILO_PORT", TestPorts.Free().ToString()), ("HEARTH_SILO_GATEWAY_PORT", TestPorts.Free().ToString())));
            _silos.Add(silo);
        }

        await silo.WaitForLineAsync(l => l.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        return silo;
    }

    public IReadOnlyDictionary<string, string?> Environment(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = FhirBase,
            ["UMA_MODE"] = "false",
            ["UMA_SERVER_BASE"] = AuthBase,
            ["UMA_SERVER_PROTECTION_API_KEY"] = ApiKey,
            ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
            ["HEARTH_REDIS"] = $"127.0.0.1:{RedisPort}",
            ["HEARTH_CLUSTER_ID"] = _clusterId,
            ["HEARTH_ADVERTISED_ADDRESS"] = "127.0.0.1",
            ["HEARTH_ADMIN_KEY"] = AdminKey,
            // JWTs of the OpenID provider validated in the gateways; the dev server's tokens introspected.
            ["HEARTH_TOKEN_VALIDATION"] = "both",
            ["HEARTH_JWT_ISSUER"] = _oidc!.BaseUrl,
            ["HEARTH_JWT_AUDIENCE"] = OidcProviderClient.Audience,
            ["HEARTH_JWT_ALLOW_HTTP"] = "true", // the development provider listens on loopback http
            ["HEARTH_DPOP_NONCE"] = "true", // DPoP proofs carry the cluster's nonces (only DPoP-bound tokens are affected)
            ["HEARTH_POLICIES"] = "token,consent", // patients' Consents, read through the silos' ConsentGrains (the seed has none)
            ["ASPNETCORE_URLS"] = null,
            ["Logging__LogLevel__Default"] = "Information",
        };
        foreach (var (key, value) in extra)
        {
            env[key] = value;
        }

        return env;
    }

    public DevAuthServerClient Auth => new(Http, AuthBase);

    public OidcProviderClient Oidc => new(Http, _oidc!.BaseUrl);

    public DevFhirServerClient Fhir => new(Http, FhirBase);

    public Task<string> TokenAsync(string permissionsJson) => Auth.TokenAsync(permissionsJson);

    public Task RevokeAsync(string token) => Auth.RevokeAsync(token);

    public Task<int> IntrospectionsAsync() => Auth.IntrospectionsAsync();

    public Task<int> FhirCountAsync(string key) => Fhir.CountAsync(key);

    /// <summary>Writes to the FHIR server directly, behind Hearth's back (as another system would).</summary>
    public Task PutDirectAsync(string path, string json) => Fhir.PutAsync(path, json);

    public static string Permission(string patient, string resourceType = "*", bool deny = false) => Permissions.For(patient, resourceType, deny: deny);

    /// <summary>Bounded wait for a condition that another process brings about.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(250);
        }
    }

    public sealed class Gateway(ChildProcess process, string baseUrl)
    {
        public ChildProcess Process { get; } = process;

        public string BaseUrl { get; } = baseUrl;

        public HttpClient Client { get; } = new() { BaseAddress = new Uri(baseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };

        public async Task<HttpResponseMessage> GetAsync(string path, string? token = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            return await Client.SendAsync(request);
        }

        public async Task<HttpResponseMessage> AdminAsync(string path, params (string Key, string Value)[] form)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "_hearth/admin/" + path)
            {
                Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            return await Client.SendAsync(request);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "Hearth cluster over loopback";
}
