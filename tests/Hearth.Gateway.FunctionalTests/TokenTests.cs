using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

[Collection(HearthCollection.Name)]
public class TokenTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    [Fact]
    public async Task Get_NoToken_401BearerChallengeAndOutcome()
    {
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetAsync("Patient/p01");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer realm=\"hearth-test\"", response.Challenge(), StringComparison.Ordinal);
        await response.AssertOutcomeAsync("login");
        Assert.Equal(before, await env.FhirTotalCountAsync()); // nothing was forwarded
    }

    [Fact]
    public async Task Get_UnknownToken_401InvalidToken()
    {
        using var response = await Client.GetWithTokenAsync("Patient/p01", "not-a-token-the-server-issued");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Challenge(), StringComparison.Ordinal);
        var diagnostics = await response.AssertOutcomeAsync("login");
        Assert.DoesNotContain("not-a-token", diagnostics, StringComparison.Ordinal);
    }

    /// <summary>
    /// A connection keeps the token it sent last, hashed (ConnectionToken): a connection that carries
    /// several clients' tokens (a front proxy's) must get each request judged by its own token.
    /// </summary>
    [Fact]
    public async Task OneConnection_ManyTokens_EachRequestJudgedByItsOwn()
    {
        var first = await env.TokenAsync("[" + Permission("10001") + "]");
        var second = await env.TokenAsync("[" + Permission("10002") + "]");
        var sameLength = first[..^1] + (first[^1] == 'A' ? 'B' : 'A'); // never issued: differs in the last character only
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var oneConnection = new HttpClient(handler) { BaseAddress = Client.BaseAddress };

        var statuses = new List<HttpStatusCode>();
        foreach (var (token, scheme) in new[] { (first, "Bearer"), (first, "Bearer"), (second, "Bearer"), (second, "Bearer"), (first, "Bearer"), (sameLength, "Bearer"), (first, "bearer"), ("has spaces", "Bearer"), (first, "Bearer"), (first, "Bearer") })
        {
            using var response = await oneConnection.GetWithTokenAsync("Patient/p01", token, scheme);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.OK],
            statuses);
    }

    [Theory]
    [InlineData("Basic", "dXNlcjpwYXNz")]
    [InlineData("Bearer", "has spaces inside")]
    [InlineData("Bearer", "quote\"d")]
    [InlineData("Bearer", "")]
    public async Task Get_MalformedAuthorization_400InvalidRequest(string scheme, string token)
    {
        using var response = await Client.GetWithTokenAsync("Patient/p01", token, scheme);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error=\"invalid_request\"", response.Challenge(), StringComparison.Ordinal);
        await response.AssertOutcomeAsync("login");
    }

    [Fact]
    public async Task Get_TwoAuthorizationHeaders_400()
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/p01");
        request.Headers.TryAddWithoutValidation("Authorization", ["Bearer " + token, "Bearer " + token]);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("login");
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    public async Task Get_SchemeCaseInsensitive_200(string scheme)
    {
        var token = await env.TokenAsync("[" + Permission("10001") + "]");
        using var response = await Client.GetWithTokenAsync("Patient/p01", token, scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("permissions", "ms")]
    [InlineData("scope", "ms")]
    [InlineData("permissions", "s")]
    [InlineData("scope", "s")]
    public async Task Get_BothPauldronShapesAndExpUnits_SameAnswer(string shape, string unit)
    {
        var token = await env.TokenAsync("[" + Permission("10001") + "]", shape: shape, timeUnit: unit);
        using var permitted = await Client.GetWithTokenAsync("Patient/p01", token);
        using var denied = await Client.GetWithTokenAsync("Patient/p02", token);
        Assert.Equal(HttpStatusCode.OK, permitted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
    }

    /// <summary>exp passes while the FHIR server takes its time: nothing of its answer is served.</summary>
    [Theory]
    [InlineData("read")]
    [InlineData("batch")]
    public async Task TokenExpiresDuringTheUpstreamCall_401NothingServed(string kind)
    {
        var token = await env.TokenAsync("[" + Permission("10001") + "]", expiresInSeconds: 120);
        using var request = kind == "read"
            ? new HttpRequestMessage(HttpMethod.Get, "Patient/p01")
            : new HttpRequestMessage(HttpMethod.Post, "")
            {
                Content = new StringContent("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/p01\"}}]}",
                    System.Text.Encoding.UTF8, "application/fhir+json"),
            };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await env.FhirFaultAsync("slow"); // the FHIR server answers after 5 s
        try
        {
            var pending = Client.SendAsync(request);
            await Task.Delay(TimeSpan.FromSeconds(1)); // checked and forwarded by now
            env.Gateway.Clock.Offset = TimeSpan.FromSeconds(121);
            using var response = await pending;
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.AssertOutcomeAsync("login");
            Assert.DoesNotContain("10001", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.DoesNotContain("p01", body, StringComparison.Ordinal);
        }
        finally
        {
            env.Gateway.Clock.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Get_TokenPastExpWhileCached_401()
    {
        var token = await env.TokenAsync("[" + Permission("10001") + "]", expiresInSeconds: 120);
        using (var first = await Client.GetWithTokenAsync("Patient/p01", token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        try
        {
            // The authorization server's clock still says active; Hearth's says exp has passed.
            env.Gateway.Clock.Offset = TimeSpan.FromSeconds(121);
            using var late = await Client.GetWithTokenAsync("Patient/p01", token);
            Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
            Assert.Contains("error=\"invalid_token\"", late.Challenge(), StringComparison.Ordinal);
            await late.AssertOutcomeAsync("login");
        }
        finally
        {
            env.Gateway.Clock.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Get_AuthorizationServerUnreachable_OAuth503()
    {
        await using var gateway = await env.StartGatewayAsync(("UMA_SERVER_BASE", $"http://127.0.0.1:{GatewayInstance.FreePort()}"));
        var before = await env.FhirTotalCountAsync();
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p01", "some-token");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await response.AssertOutcomeAsync("transient");
        Assert.Equal(before, await env.FhirTotalCountAsync());

        // Not cached: the same token fails the same way, never 200.
        using var again = await gateway.Client.GetWithTokenAsync("Patient/p01", "some-token");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
    }

    [Fact]
    public async Task Get_AuthorizationServerUnreachable_Uma403WithWarning()
    {
        await using var gateway = await env.StartGatewayAsync(("UMA_MODE", "true"), ("UMA_SERVER_BASE", $"http://127.0.0.1:{GatewayInstance.FreePort()}"));
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p01", "some-token");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("199 - \"UMA Authorization Server Unreachable\"", response.Headers.GetValues("Warning").Single());
        await response.AssertOutcomeAsync("transient");
    }

    [Fact]
    public async Task Get_WrongProtectionKey_503NotServed()
    {
        // The authorization server refuses Hearth's key (401): Hearth cannot check tokens, so it serves nothing.
        await using var gateway = await env.StartGatewayAsync(("UMA_SERVER_PROTECTION_API_KEY", "wrong-key"));
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p01", token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }
}
