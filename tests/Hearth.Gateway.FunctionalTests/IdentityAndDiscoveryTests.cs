using System.Net;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>Who asks, told to the FHIR server; and the configured issuer, told to SMART clients.</summary>
[Collection(HearthCollection.Name)]
public sealed class IdentityAndDiscoveryTests(HearthEnvironment env)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ValidatedSubjectAndClient_ForwardedInTheirHeaders_ClientsOwnReplaced(bool opaque)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both",
            ("HEARTH_FORWARD_SUBJECT_HEADER", "X-Hearth-Subject"), ("HEARTH_FORWARD_CLIENT_HEADER", "X-Hearth-Client")));
        var client = await env.Oidc.RegisterAsync("user/Patient.rs");
        var token = await env.Oidc.TokenAsync(client, "user/Patient.rs", opaque);
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/p05"); // judged without another read: the last request the server saw
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.TryAddWithoutValidation("X-Hearth-Subject", "someone-else");
        request.Headers.TryAddWithoutValidation("X-Hearth-Client", "another-app");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var headers = await env.Fhir.LastHeadersAsync();
        Assert.Equal(client.Id, headers.GetProperty("x-hearth-client").GetString());
        if (opaque)
        {
            Assert.False(headers.TryGetProperty("x-hearth-subject", out _)); // the introspection answer has no sub: none, never the client's
        }
        else
        {
            Assert.Equal(client.Id, headers.GetProperty("x-hearth-subject").GetString()); // a client_credentials JWT's sub is its client
        }
    }

    [Fact]
    public async Task WithoutAToken_ClientsOwnIdentityHeadersNeverReachTheServer()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt",
            ("HEARTH_FORWARD_SUBJECT_HEADER", "X-Hearth-Subject"), ("UNPROTECTED_RESOURCE_TYPES", "Organization")));
        using var request = new HttpRequestMessage(HttpMethod.Get, "Organization/org-1");
        request.Headers.TryAddWithoutValidation("X-Hearth-Subject", "admin");
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False((await env.Fhir.LastHeadersAsync()).TryGetProperty("x-hearth-subject", out _));
    }

    [Fact]
    public async Task SmartConfiguration_DescribesTheConfiguredIssuer()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("AUGMENT_CAPABILITY_STATEMENT", "true")));
        using var response = await gateway.Client.GetAsync(".well-known/smart-configuration");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(env.Oidc.Issuer, document["issuer"]!.GetValue<string>());
        Assert.Equal(env.Oidc.Issuer + "/token", document["token_endpoint"]!.GetValue<string>());
        Assert.Equal(env.Oidc.Issuer + "/jwks", document["jwks_uri"]!.GetValue<string>());
        var capabilities = document["capabilities"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Contains("permission-v2", capabilities);
        Assert.Contains("client-confidential-symmetric", capabilities);
        Assert.Contains("patient/*.rs", document["scopes_supported"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains("client_credentials", document["grant_types_supported"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task CapabilityStatement_NamesTheIssuersEndpoints()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("AUGMENT_CAPABILITY_STATEMENT", "true")));
        using var response = await gateway.Client.GetAsync("metadata");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var security = (await response.JsonAsync())["rest"]![0]!["security"]!;
        Assert.Contains(security["service"]!.AsArray(), s => s!["coding"]![0]!["code"]!.GetValue<string>() == "SMART-on-FHIR");
        var uris = security["extension"]!.AsArray().Single(e => e!["url"]!.GetValue<string>() == Authorization.Responses.CapabilityAugmenter.OAuthUrisExtension)!["extension"]!.AsArray();
        Assert.Contains(uris, u => u!["url"]!.GetValue<string>() == "token" && u["valueUri"]!.GetValue<string>() == env.Oidc.Issuer + "/token");
    }
}
