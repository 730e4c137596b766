using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// The OpenID provider's signing key, made here and handed to it (DEV_OIDC_JWKS), so that tests can
/// craft tokens the provider would never issue, with a JOSE library (Microsoft.IdentityModel):
/// unsigned, HMAC keyed with the public key, a stranger's key under the provider's kid, wrong
/// aud or iss, expired, not yet valid, without exp.
/// </summary>
internal static class TestKeys
{
    public const string Kid = "hearth-test-key-1";

    public static RSA Provider { get; } = RSA.Create(2048);

    /// <summary>The provider's private JWKS (for the provider only).</summary>
    public static string ProviderJwks { get; } = Jwks(Provider, Kid, includePrivate: true);

    /// <summary>The public JWK as the provider publishes it: what an HMAC attack uses as its secret.</summary>
    public static string PublicJwk { get; } = JsonNode.Parse(Jwks(Provider, Kid, includePrivate: false))!["keys"]![0]!.ToJsonString();

    /// <summary>Signs <paramref name="claims"/> as a JWT: with the provider's key unless another is given.</summary>
    public static string Craft(IDictionary<string, object> claims, SigningCredentials? credentials = null, bool setDefaultTimes = false, bool unsigned = false,
        IDictionary<string, object>? header = null)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = setDefaultTimes };
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = unsigned ? null : credentials ?? new SigningCredentials(new RsaSecurityKey(Provider) { KeyId = Kid }, SecurityAlgorithms.RsaSha256),
        };
        descriptor.AdditionalHeaderClaims = header ?? new Dictionary<string, object> { ["typ"] = "at+jwt" };
        return handler.CreateToken(descriptor);
    }

    /// <summary>The claims of a token the provider would issue to <paramref name="issuer"/>'s client, valid now for an hour.</summary>
    public static Dictionary<string, object> Claims(string issuer, string scope, string? patient = null, string audience = OidcProviderClient.Audience)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["sub"] = "crafted-client",
            ["client_id"] = "crafted-client",
            ["scope"] = scope,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        };
        if (patient is not null)
        {
            claims["patient"] = patient;
        }

        return claims;
    }

    public static SigningCredentials Hmac(string secret) => new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = Kid }, SecurityAlgorithms.HmacSha256);

    public static SigningCredentials Stranger() => new(new RsaSecurityKey(RSA.Create(2048)) { KeyId = Kid }, SecurityAlgorithms.RsaSha256);

    public static string Jwks(RSA rsa, string kid, bool includePrivate)
    {
        var p = rsa.ExportParameters(includePrivate);
        var key = new JsonObject
        {
            ["kty"] = "RSA",
            ["kid"] = kid,
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["n"] = Base64UrlEncoder.Encode(p.Modulus),
            ["e"] = Base64UrlEncoder.Encode(p.Exponent),
        };
        if (includePrivate)
        {
            key["d"] = Base64UrlEncoder.Encode(p.D);
            key["p"] = Base64UrlEncoder.Encode(p.P);
            key["q"] = Base64UrlEncoder.Encode(p.Q);
            key["dp"] = Base64UrlEncoder.Encode(p.DP);
            key["dq"] = Base64UrlEncoder.Encode(p.DQ);
            key["qi"] = Base64UrlEncoder.Encode(p.InverseQ);
        }

        return new JsonObject { ["keys"] = new JsonArray(key) }.ToJsonString();
    }
}
