using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// The real parts over loopback: Medplum's FHIR engine with the seed data, the development
/// authorization server, and one gateway (OAuth mode) shared by the collection. Tests that need
/// another configuration or cold caches start their own gateway with <see cref="StartGatewayAsync"/>.
/// </summary>
public sealed class HearthEnvironment : IAsyncLifetime
{
    public const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    public const string ApiKey = "functional-test-key";

    private readonly HttpClient _plain = new() { Timeout = TimeSpan.FromSeconds(30) };
    private NodeServer? _fhir;
    private NodeServer? _auth;
    private GatewayInstance? _gateway;

    public string FhirBase => _fhir!.BaseUrl;

    public string AuthBase => _auth!.BaseUrl;

    internal GatewayInstance Gateway => _gateway!;

    public async Task InitializeAsync()
    {
        _fhir = await NodeServer.StartAsync("deploy/fhir-server/server.js");
        _auth = await NodeServer.StartAsync("deploy/dev-auth-server/server.js", new Dictionary<string, string> { ["DEV_AUTH_API_KEY"] = ApiKey });
        _gateway = await StartGatewayAsync();
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        foreach (var server in new[] { _fhir, _auth })
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

    /// <summary>Mints a token at the development authorization server.</summary>
    public async Task<string> TokenAsync(string permissionsJson, int expiresInSeconds = 3600, string shape = "permissions", string timeUnit = "ms")
    {
        var request = new JsonObject
        {
            ["permissions"] = JsonNode.Parse(permissionsJson),
            ["expires_in"] = expiresInSeconds,
            ["shape"] = shape,
            ["time_unit"] = timeUnit,
        };
        using var response = await _plain.PostAsync(AuthBase + "/dev/tokens", JsonContent.Create(request));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public async Task<int> IntrospectionCountAsync()
        => (await _plain.GetFromJsonAsync<JsonElement>(AuthBase + "/dev/stats")).GetProperty("introspections").GetInt32();

    /// <summary>How many requests of a kind the FHIR server received, e.g. "GET Patient read".</summary>
    public async Task<int> FhirCountAsync(string key)
    {
        var stats = await _plain.GetFromJsonAsync<JsonElement>(new Uri(new Uri(FhirBase), "/__admin/stats"));
        return stats.TryGetProperty(key, out var value) ? value.GetInt32() : 0;
    }

    /// <summary>Makes the FHIR server's next <paramref name="count"/> answers misbehave (html, malformed, gzip, truncate).</summary>
    public async Task FhirFaultAsync(string mode, int count = 1)
    {
        using var response = await _plain.PostAsync(new Uri(new Uri(FhirBase), "/__admin/fault"), JsonContent.Create(new { mode, count }));
        response.EnsureSuccessStatusCode();
    }

    public async Task<int> FhirTotalCountAsync()
    {
        var stats = await _plain.GetFromJsonAsync<JsonElement>(new Uri(new Uri(FhirBase), "/__admin/stats"));
        return stats.EnumerateObject().Sum(p => p.Value.GetInt32());
    }

    /// <summary>A Pauldron permission (shape 2) for one patient of urn:official:id, or "*".</summary>
    public static string Permission(string patient, string resourceType = "*", string action = "read", string labels = "\"*\"", bool deny = false, string system = "urn:official:id")
    {
        var patientJson = patient == "*" ? "\"*\"" : "{\"system\":\"" + system + "\",\"value\":\"" + patient + "\"}";
        var typeJson = resourceType.StartsWith('[') ? resourceType : "\"" + resourceType + "\"";
        return "{" + (deny ? "\"deny\":true," : "") + "\"resource_set_id\":{\"patientId\":" + patientJson + ",\"resourceType\":" + typeJson
               + "},\"scopes\":[{\"action\":\"" + action + "\",\"securityLabels\":" + labels + "}]}";
    }

    public static string Labels(params string[] codes) => "[" + string.Join(',', codes.Select(c => "{\"system\":\"" + Conf + "\",\"code\":\"" + c + "\"}")) + "]";
}

[CollectionDefinition(Name)]
public sealed class HearthCollection : ICollectionFixture<HearthEnvironment>
{
    public const string Name = "Hearth over loopback";
}
