using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Testing;

/// <summary>Drives the development OpenID provider (deploy/oidc-provider, panva's oidc-provider): register clients, get tokens, rotate keys, count.</summary>
public sealed class OidcProviderClient(HttpClient http, string issuer)
{
    public const string Audience = "http://hearth.local/fhir";
    public const string OpaqueResource = "urn:hearth:opaque";
    public const string IntrospectionClientId = "hearth";
    public const string IntrospectionClientSecret = "hearth-secret";

    public string Issuer => issuer;

    /// <summary>Declares scopes the provider supports (it refuses to register clients with undeclared ones).</summary>
    public async Task DeclareScopesAsync(params string[] scopes)
    {
        using var response = await http.PostAsync(issuer + "/dev/scopes", JsonContent.Create(new { scopes }));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Registers a client_credentials client (RFC 7591) that may ask for <paramref name="scopes"/>; its tokens carry <paramref name="patient"/> as the SMART patient claim.</summary>
    public async Task<(string Id, string Secret)> RegisterAsync(string scopes, string? patient = null, bool certificateBound = false)
    {
        var metadata = new JsonObject
        {
            ["grant_types"] = new JsonArray("client_credentials"),
            ["response_types"] = new JsonArray(),
            ["redirect_uris"] = new JsonArray(),
            ["token_endpoint_auth_method"] = "client_secret_basic",
            ["scope"] = scopes,
        };
        if (patient is not null)
        {
            metadata["patient"] = patient;
        }

        if (certificateBound)
        {
            metadata["tls_client_certificate_bound_access_tokens"] = true;
        }

        using var response = await http.PostAsync(issuer + "/reg", JsonContent.Create(metadata));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"registration refused: {body}");
        }

        var client = JsonDocument.Parse(body).RootElement;
        return (client.GetProperty("client_id").GetString()!, client.GetProperty("client_secret").GetString()!);
    }

    /// <summary>
    /// A client_credentials access token: a signed JWT for Hearth's audience, or (opaque) one to be
    /// introspected; bound to <paramref name="dpop"/> (a DPoP proof for the token request, RFC 9449 §5)
    /// and/or to <paramref name="certificatePem"/> (RFC 8705; passed in the provider's development header).
    /// </summary>
    public async Task<string> TokenAsync((string Id, string Secret) client, string scope, bool opaque = false, DpopKey? dpop = null, string? certificatePem = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = scope,
                ["resource"] = opaque ? OpaqueResource : Audience,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(client.Id + ":" + client.Secret)));
        if (dpop is not null)
        {
            request.Headers.Add("DPoP", dpop.Proof("POST", issuer + "/token"));
        }

        if (certificatePem is not null)
        {
            request.Headers.Add("x-dev-client-cert", Uri.EscapeDataString(certificatePem));
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"token refused: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Registers a client for <paramref name="scopes"/> (declaring them first) and gets a token for all of them.</summary>
    public async Task<string> TokenForAsync(string scopes, string? patient = null, bool opaque = false, DpopKey? dpop = null, string? certificatePem = null)
    {
        await DeclareScopesAsync(scopes.Split(' '));
        return await TokenAsync(await RegisterAsync(scopes, patient, certificateBound: certificatePem is not null), scopes, opaque, dpop, certificatePem);
    }

    /// <summary>Stops publishing the key <paramref name="kid"/> (a withdrawn key); the provider must keep another.</summary>
    public async Task WithdrawAsync(string kid)
    {
        using var response = await http.PostAsync(issuer + "/dev/withdraw", JsonContent.Create(new { kid }));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Requests counted by the provider: discovery, jwks, introspection, token.</summary>
    public async Task<int> CountAsync(string what)
        => (await http.GetFromJsonAsync<JsonElement>(issuer + "/dev/stats")).GetProperty(what).GetInt32();

    /// <summary>Publishes a new signing key (the old one stays published); returns its kid.</summary>
    public async Task<string> RotateAsync()
    {
        using var response = await http.PostAsync(issuer + "/dev/rotate", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kid").GetString()!;
    }

    /// <summary>Makes every endpoint answer 503 (down) or work again.</summary>
    public async Task DownAsync(bool down)
    {
        using var response = await http.PostAsync(issuer + "/dev/fault", JsonContent.Create(new { down }));
        response.EnsureSuccessStatusCode();
    }
}
