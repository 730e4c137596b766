using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// JWT access tokens validated in the gateway against the real OpenID provider's keys: attack
/// tokens crafted with a JOSE library, key rotation, a flood of unknown kids, the issuer down,
/// routing in <c>both</c> mode, revocation.
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class JwtValidationTests(HearthEnvironment env)
{
    private const string Scope = "user/Observation.rs";
    private const string Path = "Observation/obs-05-1";

    public static TheoryData<string, string> Attacks => new()
    {
        { "unsigned (alg none)", "none" },
        { "HMAC keyed with the provider's public key", "hmac" },
        { "a stranger's key under the provider's kid", "stranger" },
        { "another audience", "aud" },
        { "another issuer", "iss" },
        { "expired", "expired" },
        { "not valid yet (nbf in the future)", "nbf" },
        { "no exp", "noexp" },
        { "a signature that does not match the payload", "tampered" },
        { "not a JWT at all", "garbage" },
    };

    private string Attack(string kind)
    {
        var issuer = env.Oidc.Issuer;
        var claims = TestKeys.Claims(issuer, Scope);
        switch (kind)
        {
            case "none":
                return TestKeys.Craft(claims, unsigned: true);
            case "hmac":
                return TestKeys.Craft(claims, TestKeys.Hmac(TestKeys.PublicJwk));
            case "stranger":
                return TestKeys.Craft(claims, TestKeys.Stranger());
            case "aud":
                claims["aud"] = "http://another.example/fhir";
                return TestKeys.Craft(claims);
            case "iss":
                claims["iss"] = "http://127.0.0.1:1/not-the-issuer";
                return TestKeys.Craft(claims);
            case "expired":
                claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
                return TestKeys.Craft(claims);
            case "nbf":
                claims["nbf"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
                return TestKeys.Craft(claims);
            case "noexp":
                claims.Remove("exp");
                return TestKeys.Craft(claims);
            case "tampered":
                var signed = TestKeys.Craft(claims).Split('.');
                claims["scope"] = "user/*.cruds"; // a wider grant, under the signature of the narrow one
                return signed[0] + "." + TestKeys.Craft(claims).Split('.')[1] + "." + signed[2];
            default:
                return "eyJhbGciOiJSUzI1NiJ9.not-json.sig";
        }
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task AttackToken_401InvalidToken_SaysWhichCheckInGeneralWords(string name, string kind)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var token = Attack(kind);
        var before = await env.FhirTotalCountAsync();
        using var response = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {response.StatusCode}");
        Assert.Contains("error=\"invalid_token\"", response.Challenge(), StringComparison.Ordinal);
        var diagnostics = await response.AssertOutcomeAsync("login");
        Assert.DoesNotContain(token, diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[0], diagnostics, StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync()); // nothing forwarded

        // The same claims, signed by the provider's key as issued, pass: the attack is what failed.
        using var sound = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope)));
        Assert.Equal(HttpStatusCode.OK, sound.StatusCode);
    }

    [Theory]
    [InlineData("expired", "expired")]
    [InlineData("aud", "audience")]
    [InlineData("iss", "issuer")]
    [InlineData("nbf", "not valid yet")]
    [InlineData("noexp", "no exp")]
    [InlineData("stranger", "signature")]
    public async Task AttackToken_OutcomeNamesTheCheck(string kind, string words)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        using var response = await gateway.Client.GetWithTokenAsync(Path, Attack(kind));
        var diagnostics = await response.AssertOutcomeAsync("login");
        Assert.Contains(words, diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PauldronPermissionsClaim_InAJwt_HonouredWithItsDenies()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var claims = TestKeys.Claims(env.Oidc.Issuer, "openid");
        claims["permissions"] = System.Text.Json.JsonDocument.Parse("[" + HearthEnvironment.Permission("10006", "Observation") + ","
            + HearthEnvironment.Permission("*", "*", labels: HearthEnvironment.Labels("R"), deny: true) + "]").RootElement;
        var token = TestKeys.Craft(claims);
        using (var permitted = await gateway.Client.GetWithTokenAsync("Observation/obs-06-1", token))
        {
            Assert.Equal(HttpStatusCode.OK, permitted.StatusCode);
        }

        using (var denied = await gateway.Client.GetWithTokenAsync("Observation/obs-06-2", token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode); // the patient's, but labelled R: denied
        }

        using var other = await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", token);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task KeyRotation_PickedUpAtOnce()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_JWKS_REFRESH_SECONDS", "1")));
        var before = await env.Oidc.TokenForAsync(Scope);
        using (var first = await gateway.Client.GetWithTokenAsync(Path, before))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await env.Oidc.RotateAsync();
        await Task.Delay(1100); // past HEARTH_JWKS_REFRESH_SECONDS since the first fetch
        var after = await env.Oidc.TokenForAsync(Scope);
        Assert.NotEqual(JwtKid(before), JwtKid(after));
        using var second = await gateway.Client.GetWithTokenAsync(Path, after);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode); // the first token with the new kid passes
    }

    [Fact]
    public async Task UnknownKidFlood_AtMostOneFetchPerRefreshInterval()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_JWKS_REFRESH_SECONDS", "60")));
        using (var warm = await gateway.Client.GetWithTokenAsync(Path, await env.Oidc.TokenForAsync(Scope)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var fetches = await env.Oidc.CountAsync("jwks");
        using var stranger = System.Security.Cryptography.RSA.Create(2048);
        var flood = Enumerable.Range(0, 200).Select(i =>
        {
            var key = new RsaSecurityKey(stranger) { KeyId = "made-up-" + i };
            return TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope), new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
        }).ToList();
        var responses = await Task.WhenAll(flood.Select(t => gateway.Client.GetWithTokenAsync(Path, t)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        foreach (var r in responses)
        {
            r.Dispose();
        }

        Assert.True(await env.Oidc.CountAsync("jwks") - fetches <= 1, $"{await env.Oidc.CountAsync("jwks") - fetches} JWKS fetches for 200 unknown kids");
    }

    [Fact]
    public async Task IssuerDown_KnownKeysKeepWorking()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_JWKS_REFRESH_SECONDS", "1")));
        var first = await env.Oidc.TokenForAsync(Scope);
        var second = await env.Oidc.TokenForAsync("user/Condition.rs");
        using (var warm = await gateway.Client.GetWithTokenAsync(Path, first))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await env.Oidc.DownAsync(true);
        try
        {
            using var response = await gateway.Client.GetWithTokenAsync("Condition/cond-05", second); // never seen, signed by a known key
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(1100);
            using var unknown = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope), TestKeys.Stranger()));
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode); // a refresh fails: still refused, never let through
        }
        finally
        {
            await env.Oidc.DownAsync(false);
        }
    }

    [Fact]
    public async Task BothMode_JwtsOfTheIssuerLocally_OthersIntrospected()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both"));
        var jwt = await env.Oidc.TokenForAsync(Scope);
        var opaque = await env.Oidc.TokenForAsync(Scope, opaque: true);
        var introspections = await env.Oidc.CountAsync("introspection");
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetWithTokenAsync(Path, jwt);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(introspections, await env.Oidc.CountAsync("introspection")); // the JWT: no introspection
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetWithTokenAsync(Path, opaque);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(introspections + 1, await env.Oidc.CountAsync("introspection")); // the opaque token: once, then cached

        // A JWT of another issuer is introspected (oidc-provider refuses to introspect JWTs: never served).
        var foreign = TestKeys.Claims("http://127.0.0.1:1/other-issuer", Scope);
        using var other = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(foreign));
        Assert.False(other.IsSuccessStatusCode, other.StatusCode.ToString());
        Assert.Equal(introspections + 2, await env.Oidc.CountAsync("introspection"));
    }

    [Fact]
    public async Task JwtMode_OpaqueTokenRefused_NoIntrospection()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var opaque = await env.Oidc.TokenForAsync(Scope, opaque: true);
        var introspections = await env.Oidc.CountAsync("introspection");
        using var response = await gateway.Client.GetWithTokenAsync(Path, opaque);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(introspections, await env.Oidc.CountAsync("introspection"));
    }

    [Fact]
    public async Task EvictedJwt_RefusedUntilExp()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_ADMIN_KEY", "admin-secret-for-tests")));
        var token = await env.Oidc.TokenForAsync(Scope);
        using (var before = await gateway.Client.GetWithTokenAsync(Path, token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var evict = new HttpRequestMessage(HttpMethod.Post, "_hearth/admin/tokens/evict")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        evict.Headers.Authorization = new("Bearer", "admin-secret-for-tests");
        using (var evicted = await gateway.Client.SendAsync(evict))
        {
            Assert.Equal(HttpStatusCode.NoContent, evicted.StatusCode);
        }

        using var after = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("revoked", await after.AssertOutcomeAsync("login"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredWhileCached_NeverServed()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var claims = TestKeys.Claims(env.Oidc.Issuer, Scope);
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(2).ToUnixTimeSeconds();
        var token = TestKeys.Craft(claims);
        using (var first = await gateway.Client.GetWithTokenAsync(Path, token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        gateway.Clock.Offset = TimeSpan.FromMinutes(3); // past exp, the skew included
        using var later = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.Unauthorized, later.StatusCode);
    }

    private static string JwtKid(string token)
        => System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.Decode(token.Split('.')[0])).RootElement.GetProperty("kid").GetString()!;

    /// <summary>
    /// <c>both</c> mode, one kept-alive connection carrying a JWT of the issuer, an opaque token of
    /// the same provider (introspected) and a forged JWT in turn: the connection's last token (ConnectionToken) keeps whether it is
    /// validated here with the header it came in (a repeated header reuses it), so each request is
    /// routed by its own token.
    /// </summary>
    [Fact]
    public async Task BothMode_OneConnection_EachTokenRoutedByItself()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both"));
        var jwt = await env.Oidc.TokenForAsync(Scope);
        var opaque = await env.Oidc.TokenForAsync(Scope, opaque: true);
        var forged = Attack("stranger");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var oneConnection = new HttpClient(handler) { BaseAddress = gateway.Client.BaseAddress };
        var statuses = new List<HttpStatusCode>();
        foreach (var token in new[] { jwt, jwt, opaque, opaque, jwt, forged, forged, opaque, jwt, jwt })
        {
            using var response = await oneConnection.GetWithTokenAsync(Path, token);
            statuses.Add(response.StatusCode);
        }

        HttpStatusCode[] expected = [.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, .. Enumerable.Repeat(HttpStatusCode.OK, 3)];
        Assert.Equal(expected, statuses);
    }
}
