using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>HEARTH_BASE_PATH, HEARTH_TRUSTED_PROXIES and the links they produce.</summary>
[Collection(HearthCollection.Name)]
public class DeploymentSettingsTests(HearthEnvironment env)
{
    private Task<string> TokenAsync() => env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");

    [Fact]
    public async Task BasePath_ServesUnderThePrefix_LinksIncludeIt_NothingElseForwarded()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_BASE_PATH", "/fhir/r4"));
        var token = await TokenAsync();
        using var search = await gateway.Client.GetWithTokenAsync("fhir/r4/Observation?subject=Patient/p03", token);
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        var bundle = await search.JsonAsync();
        Assert.Equal(["obs-03-1"], bundle.EntryIds());
        Assert.StartsWith(gateway.BaseUrl + "/fhir/r4/Observation/", bundle["entry"]![0]!["fullUrl"]!.GetValue<string>(), StringComparison.Ordinal);

        var before = await env.FhirTotalCountAsync();
        using var outside = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", token);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());

        using var health = await gateway.Client.GetAsync("fhir/r4/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task ForwardedHeaders_BelievedOnlyFromTrustedProxies()
    {
        var token = await TokenAsync();
        async Task<string> FullUrlVia(GatewayInstance gateway, string host = "fhir.example.org")
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "Observation?subject=Patient/p03");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", host);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.JsonAsync())["entry"]![0]!["fullUrl"]!.GetValue<string>();
        }

        // The shared gateway trusts no proxy: the forged headers change nothing.
        Assert.StartsWith(env.Gateway.BaseUrl + "/Observation/", await FullUrlVia(env.Gateway), StringComparison.Ordinal);

        await using var behindProxy = await env.StartGatewayAsync(("HEARTH_TRUSTED_PROXIES", "127.0.0.1"));
        Assert.StartsWith("https://fhir.example.org/Observation/", await FullUrlVia(behindProxy), StringComparison.Ordinal);

        // Each request's own host, one after the other (the base made for the last one is not reused for another).
        Assert.StartsWith("https://other.example.org/Observation/", await FullUrlVia(behindProxy, "other.example.org"), StringComparison.Ordinal);
        Assert.StartsWith("https://fhir.example.org/Observation/", await FullUrlVia(behindProxy), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublicBase_WinsOverTheRequest()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_PUBLIC_BASE", "https://api.example.org/fhir"));
        using var response = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", await TokenAsync());
        var bundle = await response.JsonAsync();
        Assert.StartsWith("https://api.example.org/fhir/Observation/", bundle["entry"]![0]!["fullUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(env.FhirBase, bundle.ToJsonString(), StringComparison.Ordinal);
    }
}
