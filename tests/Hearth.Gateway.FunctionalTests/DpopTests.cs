using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// DPoP (RFC 9449) at the resource server: tokens bound by the real OpenID provider (panva's
/// oidc-provider, its dPoP feature) to a key made here, proofs made with Microsoft.IdentityModel;
/// every check of §4.3 bent one at a time, replay, server nonces, the bearer fallback refused.
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class DpopTests(HearthEnvironment env)
{
    private const string Scope = "user/Observation.rs";
    private const string Path = "Observation/obs-05-1";

    private static async Task<HttpResponseMessage> SendAsync(GatewayInstance gateway, string method, string path, string? token, string scheme, params string[] proofs)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", scheme + " " + token);
        }

        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> GetAsync(GatewayInstance gateway, string token, DpopKey key, string path = Path, ProofOptions? options = null)
        => SendAsync(gateway, "GET", path, token, "DPoP", key.Proof("GET", gateway.BaseUrl + "/" + path, token, options));

    private static JsonObject Payload(string jwt) => JsonNode.Parse(Base64UrlEncoder.Decode(jwt.Split('.')[1]))!.AsObject();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BoundToken_WithASoundProof_Served_AsBearer_Refused(bool opaque)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, opaque: opaque, dpop: key);
        if (!opaque)
        {
            Assert.Equal(key.Thumbprint, Payload(token)["cnf"]!["jkt"]!.GetValue<string>()); // the provider bound it to our key
        }

        using (var served = await GetAsync(gateway, token, key))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        // The same (stolen) token as a plain bearer token: refused, nothing forwarded.
        var before = await env.FhirTotalCountAsync();
        using var bearer = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
        var challenges = bearer.Headers.WwwAuthenticate.Select(h => h.ToString()).ToList();
        Assert.Contains(challenges, c => c.StartsWith("Bearer", StringComparison.Ordinal) && c.Contains("error=\"invalid_token\"", StringComparison.Ordinal));
        Assert.Contains(challenges, c => c.StartsWith("DPoP", StringComparison.Ordinal) && c.Contains("algs=\"", StringComparison.Ordinal));
        var diagnostics = await bearer.AssertOutcomeAsync("login");
        Assert.Contains("DPoP", diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain(token, diagnostics, StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());

        // And with a proof of a key it is not bound to.
        using var thief = await GetAsync(gateway, token, new DpopKey());
        Assert.Equal(HttpStatusCode.Unauthorized, thief.StatusCode);
        Assert.Contains("invalid_dpop_proof", thief.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnboundToken_UnderTheDpopScheme_Refused_AsBearer_Served()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope);
        using (var dpop = await GetAsync(gateway, token, key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, dpop.StatusCode);
            Assert.StartsWith("DPoP error=\"invalid_token\"", dpop.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.Contains("not bound", await dpop.AssertOutcomeAsync("login"), StringComparison.Ordinal);
        }

        using var bearer = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    /// <summary>Each row bends one check of RFC 9449 §4.3 (or sends what a proof may not be).</summary>
    public static TheoryData<string, string> BadProofs => new()
    {
        { "no DPoP header", "DPoP header" },
        { "two DPoP headers", "more than one" },
        { "two proofs in one header", "more than one" },
        { "not a JWT", "not a JWT" },
        { "typ JWT", "typ" },
        { "crit", "crit" },
        { "alg none", "alg" },
        { "HMAC proof", "alg" },
        { "jwk with the private key", "private" },
        { "no jwk", "jwk" },
        { "signed by another key than its jwk", "signature" },
        { "htm POST for a GET", "htm" },
        { "htu with a query", "query" },
        { "htu of another path", "htu" },
        { "htu of another host", "htu" },
        { "htu of another scheme", "htu" },
        { "stale iat", "old" },
        { "iat in the future", "future" },
        { "no ath", "ath" },
        { "ath of another token", "ath" },
        { "no jti", "jti" },
        { "another key, sound in itself", "cnf.jkt" },
    };

    [Theory]
    [MemberData(nameof(BadProofs))]
    public async Task Proof_FailsACheck_401InvalidDpopProof_NothingForwarded(string kind, string words)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        var url = gateway.BaseUrl + "/" + Path;
        string[] proofs = kind switch
        {
            "no DPoP header" => [],
            "two DPoP headers" => [key.Proof("GET", url, token), key.Proof("GET", url, token)],
            "two proofs in one header" => [key.Proof("GET", url, token) + "," + key.Proof("GET", url, token)],
            "not a JWT" => ["not-a-jwt"],
            "typ JWT" => [key.Proof("GET", url, token, new ProofOptions { Typ = "JWT" })],
            "crit" => [key.Proof("GET", url, token, new ProofOptions { Crit = true })],
            "alg none" => [Unsigned(key.Proof("GET", url, token))],
            "HMAC proof" => [key.Proof("GET", url, token, new ProofOptions
            {
                Signing = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("a-shared-secret-of-32-bytes-long!")), SecurityAlgorithms.HmacSha256),
            })],
            "jwk with the private key" => [key.Proof("GET", url, token, new ProofOptions { Jwk = key.PrivateJwk })],
            "no jwk" => [key.Proof("GET", url, token, new ProofOptions { Jwk = new Dictionary<string, object>() })],
            "signed by another key than its jwk" => [key.Proof("GET", url, token, new ProofOptions
            {
                Signing = new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)), SecurityAlgorithms.EcdsaSha256),
            })],
            "htm POST for a GET" => [key.Proof("GET", url, token, new ProofOptions { Htm = "POST" })],
            "htu with a query" => [key.Proof("GET", url + "?_elements=id", token, new ProofOptions { KeepQuery = true })],
            "htu of another path" => [key.Proof("GET", gateway.BaseUrl + "/Observation/obs-04-1", token)],
            "htu of another host" => [key.Proof("GET", url.Replace("127.0.0.1", "fhir.example.org", StringComparison.Ordinal), token)],
            "htu of another scheme" => [key.Proof("GET", url.Replace("http:", "https:", StringComparison.Ordinal), token)],
            "stale iat" => [key.Proof("GET", url, token, new ProofOptions { IssuedAt = DateTimeOffset.UtcNow.AddMinutes(-5) })],
            "iat in the future" => [key.Proof("GET", url, token, new ProofOptions { IssuedAt = DateTimeOffset.UtcNow.AddMinutes(2) })],
            "no ath" => [key.Proof("GET", url, token, new ProofOptions { NoAth = true })],
            "ath of another token" => [key.Proof("GET", url, token + "x")],
            "no jti" => [key.Proof("GET", url, token, new ProofOptions { Jti = "" })],
            "another key, sound in itself" => [new DpopKey().Proof("GET", url, token)],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var before = await env.FhirTotalCountAsync();
        using var response = await SendAsync(gateway, "GET", Path, token, "DPoP", proofs);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: {(int)response.StatusCode}");
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("DPoP error=\"invalid_dpop_proof\"", challenge, StringComparison.Ordinal);
        Assert.Contains("algs=\"", challenge, StringComparison.Ordinal);
        var diagnostics = await response.AssertOutcomeAsync("login");
        Assert.Contains(words, diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain(token, diagnostics, StringComparison.Ordinal);
        foreach (var proof in proofs)
        {
            Assert.DoesNotContain(proof.Split('.')[0], diagnostics + challenge, StringComparison.Ordinal);
        }

        Assert.Equal(before, await env.FhirTotalCountAsync()); // nothing forwarded

        // A sound proof for the same token passes: the bent check is what failed.
        using var sound = await GetAsync(gateway, token, key);
        Assert.Equal(HttpStatusCode.OK, sound.StatusCode);
    }

    /// <summary>The proof's header and payload with <c>alg: none</c> and no signature.</summary>
    private static string Unsigned(string proof)
    {
        var header = JsonNode.Parse(Base64UrlEncoder.Decode(proof.Split('.')[0]))!.AsObject();
        header["alg"] = "none";
        return Base64UrlEncoder.Encode(header.ToJsonString()) + "." + proof.Split('.')[1] + ".";
    }

    [Fact]
    public async Task Proof_UsedTwice_SecondRefused_EvenForAnotherResource()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        var proof = key.Proof("GET", gateway.BaseUrl + "/" + Path, token);
        using (var first = await SendAsync(gateway, "GET", Path, token, "DPoP", proof))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var replay = await SendAsync(gateway, "GET", Path, token, "DPoP", proof))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
            Assert.Contains("used before", await replay.AssertOutcomeAsync("login"), StringComparison.Ordinal);
        }

        // A new proof with the same jti: still a replay of that jti for that key.
        var jti = Guid.NewGuid().ToString("N");
        using (var once = await GetAsync(gateway, token, key, options: new ProofOptions { Jti = jti }))
        {
            Assert.Equal(HttpStatusCode.OK, once.StatusCode);
        }

        using var again = await GetAsync(gateway, token, key, options: new ProofOptions { Jti = jti });
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    /// <summary>
    /// A restart does not reopen the window: a proof one embedded gateway accepted, sent to a
    /// gateway started after it (its own, new replay cache: an embedded gateway restarted), is
    /// refused as made before that cache started, although its iat is well within the window.
    /// </summary>
    [Fact]
    public async Task Proof_AcceptedBeforeARestart_RefusedAfterIt()
    {
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        string proof;
        await using (var before = await env.StartGatewayAsync(env.SmartSettings("jwt")))
        {
            proof = key.Proof("GET", before.BaseUrl + "/" + Path, token);
            using var first = await SendAsync(before, "GET", Path, token, "DPoP", proof);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(2.1)); // past the one second of iat rounding the cache allows at its start
        await using var after = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var replayed = proof;
        if (!replayed.Contains(after.BaseUrl.Split("//")[1], StringComparison.Ordinal))
        {
            // Each test gateway has its own port: the same key and jti, its htu this gateway's, iat unchanged.
            var claims = Payload(proof);
            replayed = key.Proof("GET", after.BaseUrl + "/" + Path, token, new ProofOptions { Jti = claims["jti"]!.GetValue<string>(), IssuedAt = DateTimeOffset.FromUnixTimeSeconds(claims["iat"]!.GetValue<long>()) });
        }

        using var replay = await SendAsync(after, "GET", Path, token, "DPoP", replayed);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("before the replay cache started", await replay.AssertOutcomeAsync("login"), StringComparison.Ordinal);

        // A new proof is served.
        using var fresh = await GetAsync(after, token, key);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task Nonces_Required_UseDpopNonceThenServed_MadeUpNonceRefused()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_DPOP_NONCE", "true")));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        string nonce;
        using (var first = await GetAsync(gateway, token, key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
            Assert.StartsWith("DPoP error=\"use_dpop_nonce\"", first.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            nonce = first.Headers.GetValues("DPoP-Nonce").Single();
        }

        using (var retried = await GetAsync(gateway, token, key, options: new ProofOptions { Nonce = nonce }))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        var period = nonce.Split('.')[0];
        foreach (var forged in new[] { period + ".AAAAAAAAAAAAAAAAAAAAAAAA", (long.Parse(period, System.Globalization.CultureInfo.InvariantCulture) + 5) + "." + nonce.Split('.')[1], "garbage" })
        {
            using var made = await GetAsync(gateway, token, key, options: new ProofOptions { Nonce = forged });
            Assert.Equal(HttpStatusCode.Unauthorized, made.StatusCode);
            Assert.Contains("use_dpop_nonce", made.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DpopRequired_PlainBearerTokenRefused_MetadataSaysSo()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both", ("HEARTH_DPOP_REQUIRED", "true")));
        using (var bearer = await gateway.Client.GetWithTokenAsync(Path, await env.Oidc.TokenForAsync(Scope)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
            Assert.Contains("only DPoP-bound", await bearer.AssertOutcomeAsync("login"), StringComparison.Ordinal);
        }

        using (var opaque = await gateway.Client.GetWithTokenAsync(Path, await env.Oidc.TokenForAsync(Scope, opaque: true)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, opaque.StatusCode);
        }

        var key = new DpopKey();
        using (var bound = await GetAsync(gateway, await env.Oidc.TokenForAsync(Scope, dpop: key), key))
        {
            Assert.Equal(HttpStatusCode.OK, bound.StatusCode);
        }

        using var metadata = await gateway.Client.GetAsync(".well-known/oauth-protected-resource");
        var document = await metadata.JsonAsync();
        Assert.True(document["dpop_bound_access_tokens_required"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ProtectedResourceMetadata_AndSmartConfiguration_AdvertiseDpop_NoToken()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("AUGMENT_CAPABILITY_STATEMENT", "true"), ("HEARTH_DPOP_ALGORITHMS", "ES256,PS256")));
        var before = await env.FhirTotalCountAsync();

        // A request without a token: both challenges say where the metadata is (RFC 9728 §5.1), and it is there.
        var where = gateway.BaseUrl + "/.well-known/oauth-protected-resource";
        using (var anonymous = await gateway.Client.GetAsync(Path))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            var challenges = anonymous.Headers.WwwAuthenticate.Select(c => c.ToString()).ToList();
            Assert.Equal(2, challenges.Count);
            Assert.All(challenges, c => Assert.Contains($"resource_metadata=\"{where}\"", c, StringComparison.Ordinal));
        }

        // So does a challenge to a bound token sent as a bearer token.
        var boundKey = new DpopKey();
        using (var asBearer = await gateway.Client.GetWithTokenAsync(Path, await env.Oidc.TokenForAsync(Scope, dpop: boundKey)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, asBearer.StatusCode);
            Assert.All(asBearer.Headers.WwwAuthenticate, c => Assert.Contains($"resource_metadata=\"{where}\"", c.ToString(), StringComparison.Ordinal));
        }

        using var metadata = await gateway.Client.GetAsync(where);
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        var document = await metadata.JsonAsync();
        Assert.Equal(gateway.BaseUrl, document["resource"]!.GetValue<string>());
        Assert.Equal([env.Oidc.Issuer], document["authorization_servers"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["ES256", "PS256"], document["dpop_signing_alg_values_supported"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.False(document["dpop_bound_access_tokens_required"]!.GetValue<bool>());
        Assert.Equal(before, await env.FhirTotalCountAsync()); // answered by Hearth

        using var smart = await gateway.Client.GetAsync(".well-known/smart-configuration");
        var configuration = await smart.JsonAsync();
        Assert.Equal(["ES256", "PS256"], configuration["dpop_signing_alg_values_supported"]!.AsArray().Select(a => a!.GetValue<string>()));

        // A proof by an algorithm not listed is refused.
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        using var refused = await GetAsync(gateway, token, key, options: new ProofOptions
        {
            Jwk = new Dictionary<string, object> { ["kty"] = "RSA", ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) },
            Signing = new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("alg", await refused.AssertOutcomeAsync("login"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BehindAPublicBase_HtuIsThePublicUrl()
    {
        const string publicBase = "https://fhir.example.org/r4";
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_PUBLIC_BASE", publicBase)));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        using (var loopback = await GetAsync(gateway, token, key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, loopback.StatusCode); // the proof names the gateway's own address, not the client's URL
        }

        using var proxied = await SendAsync(gateway, "GET", Path, token, "DPoP", key.Proof("GET", publicBase + "/" + Path, token));
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);

        // Scheme and host compare without case, the default port is the same URL (RFC 3986 normalisation).
        using var normalised = await SendAsync(gateway, "GET", Path, token, "DPoP", key.Proof("GET", "HTTPS://FHIR.example.org:443/r4/" + Path, token));
        Assert.Equal(HttpStatusCode.OK, normalised.StatusCode);
    }

    [Fact]
    public async Task OneProofPerHttpRequest_BatchEntriesAndPagingNeedNoOther()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync("user/Observation.rs user/Condition.rs", dpop: key);
        var bundle = new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["type"] = "batch",
            ["entry"] = new JsonArray(
                new JsonObject { ["request"] = new JsonObject { ["method"] = "GET", ["url"] = Path } },
                new JsonObject { ["request"] = new JsonObject { ["method"] = "GET", ["url"] = "Condition?_count=2" } }),
        }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(bundle, Encoding.UTF8, "application/fhir+json") };
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        request.Headers.TryAddWithoutValidation("DPoP", key.Proof("POST", gateway.BaseUrl + "/", token));
        using var batch = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var entries = (await batch.JsonAsync())["entry"]!.AsArray();
        Assert.All(entries, e => Assert.StartsWith("200", e!["response"]!["status"]!.GetValue<string>(), StringComparison.Ordinal));

        // A search's next page: its own request, its own proof (htu without the paging query).
        using var page = await GetAsync(gateway, token, key, "Observation?_count=1");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var next = (await page.JsonAsync())["link"]!.AsArray().First(l => l!["relation"]!.GetValue<string>() == "next")!["url"]!.GetValue<string>();
        Assert.StartsWith(gateway.BaseUrl, next, StringComparison.Ordinal);
        using var nextPage = await SendAsync(gateway, "GET", next, token, "DPoP", key.Proof("GET", next, token));
        Assert.Equal(HttpStatusCode.OK, nextPage.StatusCode);
    }

    [Theory]
    [InlineData("DPoP", "x")]
    [InlineData("DPoP", "")]
    [InlineData("dpop", null)]
    public async Task MalformedDpopInput_ClearRefusal_Never500(string scheme, string? proof)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var key = new DpopKey();
        var token = await env.Oidc.TokenForAsync(Scope, dpop: key);
        var garbage = proof ?? new string('A', 20_000) + "." + new string('B', 10) + ".c";
        using var response = await SendAsync(gateway, "GET", Path, token, scheme, garbage);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await response.AssertOutcomeAsync("login");
        using var schemeOnly = await SendAsync(gateway, "GET", Path, "", scheme);
        Assert.True(schemeOnly.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{schemeOnly.StatusCode}");
    }
}
