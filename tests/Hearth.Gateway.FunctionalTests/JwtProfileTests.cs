using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The JWT access-token profile (RFC 9068 §4, RFC 8725): other JWTs of the same issuer, signed by
/// its own key with an accepted audience, are not access tokens. Each attack is refused with the
/// check it failed; the same claims as an access token pass.
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class JwtProfileTests(HearthEnvironment env)
{
    private const string Scope = "user/Observation.rs";
    private const string Path = "Observation/obs-05-1";

    /// <summary>A JWS assembled here (header as given, RS256 with the provider's key), for headers a JOSE library will not write (no typ at all).</summary>
    private static string Assemble(JsonObject header, IDictionary<string, object> claims)
    {
        var payload = new JsonObject();
        foreach (var (name, value) in claims)
        {
            payload[name] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(value));
        }

        var input = Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());
        var signature = TestKeys.Provider.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + Base64UrlEncoder.Encode(signature);
    }

    private static Dictionary<string, object> Header(string? typ, bool crit = false)
    {
        var header = new Dictionary<string, object>();
        if (typ is not null)
        {
            header["typ"] = typ;
        }

        if (crit)
        {
            header["crit"] = new[] { "urn:example:unknown" };
            header["urn:example:unknown"] = true;
        }

        return header;
    }

    public static TheoryData<string, string> Attacks => new()
    {
        { "an ID token (typ JWT, nonce, at_hash)", "typ" },
        { "a JWT without typ", "typ" },
        { "a back-channel logout token (logout+jwt)", "typ" },
        { "crit naming an unknown extension", "crit" },
        { "aud with a trailing slash", "audience" },
        { "iat in the future", "iat" },
    };

    private string Attack(string kind)
    {
        var claims = TestKeys.Claims(env.Oidc.Issuer, Scope);
        switch (kind)
        {
            case "an ID token (typ JWT, nonce, at_hash)":
                claims["nonce"] = "n-0S6_WzA2Mj";
                claims["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ";
                return TestKeys.Craft(claims, header: Header("JWT"));
            case "a JWT without typ":
                return Assemble(new JsonObject { ["alg"] = "RS256", ["kid"] = TestKeys.Kid }, claims);
            case "a back-channel logout token (logout+jwt)":
                claims["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() };
                return TestKeys.Craft(claims, header: Header("logout+jwt"));
            case "crit naming an unknown extension":
                return TestKeys.Craft(claims, header: Header("at+jwt", crit: true));
            case "aud with a trailing slash":
                claims["aud"] = OidcProviderClient.Audience + "/";
                return TestKeys.Craft(claims);
            default:
                claims["iat"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
                return TestKeys.Craft(claims);
        }
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task NotAnAccessToken_401_SaysWhichCheck_NothingForwarded(string kind, string words)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("both"));
        var token = Attack(kind);
        var before = await env.FhirTotalCountAsync();
        using var response = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: {response.StatusCode}");
        var diagnostics = await response.AssertOutcomeAsync("login");
        Assert.Contains(words, diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[0], diagnostics, StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());

        using var sound = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope)));
        Assert.Equal(HttpStatusCode.OK, sound.StatusCode);
    }

    [Theory]
    [InlineData("application/at+jwt")]
    [InlineData("AT+JWT")]
    public async Task AccessTokenType_LongFormAndCase_Accepted(string typ)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        using var response = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope), header: Header(typ)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AcceptedTypes_Configured_JwtTypedTokensAccepted_UntypedStillRefused()
    {
        // Entra ID and Keycloak write typ JWT: an operator who trusts the issuer to sign nothing else may list it.
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_JWT_ACCEPTED_TYPES", "at+jwt,JWT")));
        using (var typed = await gateway.Client.GetWithTokenAsync(Path, TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope), header: Header("JWT"))))
        {
            Assert.Equal(HttpStatusCode.OK, typed.StatusCode);
        }

        using var untyped = await gateway.Client.GetWithTokenAsync(Path, Assemble(new JsonObject { ["alg"] = "RS256", ["kid"] = TestKeys.Kid }, TestKeys.Claims(env.Oidc.Issuer, Scope)));
        Assert.Equal(HttpStatusCode.Unauthorized, untyped.StatusCode);
    }

    [Fact]
    public async Task ProviderIssuedAccessToken_IsAtJwt_AndPasses()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var token = await env.Oidc.TokenForAsync(Scope);
        Assert.Equal("at+jwt", JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[0]))!["typ"]!.GetValue<string>());
        using var response = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
