using System.Text.Json;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// A DPoP proof's JOSE header (RFC 9449 §4.3 steps 2 to 7 and 12): a signed JWT, <c>typ</c>
/// <c>dpop+jwt</c>, no <c>crit</c>, an allowed <c>alg</c>, a public RSA or EC <c>jwk</c> whose
/// thumbprint is the token's <c>cnf.jkt</c>; and the keys that passed, kept for their next proof
/// (<see cref="DpopProofs"/> checks the signature and the claims).
/// </summary>
internal sealed class DpopProofHeaders(SenderConstraintSettings settings)
{
    /// <summary>Keys that bound tokens named, by their JWK text: at most this many, each kept while used (10 minutes unused).</summary>
    public const int MaxKeys = 10_000;

    private static readonly TimeSpan KeyLifetime = TimeSpan.FromMinutes(10);
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private readonly SenderConstraintSettings _settings = settings;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly MemoryCache _keys = new(new MemoryCacheOptions { SizeLimit = MaxKeys });

    /// <summary>The <c>algs</c> of a DPoP challenge.</summary>
    public string Algorithms { get; } = string.Join(' ', settings.DpopAlgorithms);

    /// <summary>
    /// The proof's header checks: the parsed JWT and its public key, or why not. The key's RFC 7638
    /// thumbprint must be the token's <c>cnf.jkt</c> (RFC 9449 §4.3 step 12, checked here, before
    /// any signature: a proof by another key costs no verification). A key that passes is kept
    /// (by its JWK text, bounded) with what verifies its proofs: the next proof of the same client
    /// neither imports the key nor builds a verifier again.
    /// </summary>
    public (JsonWebToken? Jwt, ProofKey? Key, string? Failure) Read(string proof, string jkt)
    {
        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(proof);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return (null, null, "it is not a JWT");
        }

        if (jwt.IsEncrypted)
        {
            return (null, null, "it is encrypted; a DPoP proof is a signed JWT");
        }

        if (!jwt.TryGetHeaderValue<string>("typ", out var typ) || JwtSettings.NormalType(typ) != "dpop+jwt")
        {
            return (null, null, "its typ is not dpop+jwt");
        }

        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return (null, null, "its header lists critical extensions (crit) that Hearth does not understand");
        }

        if (!_settings.DpopAlgorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            return (null, null, $"its alg is not one of {Algorithms}");
        }

        var (key, failure) = Key(jwt, jkt);
        return key is null ? (null, null, failure) : (jwt, key, null);
    }

    /// <summary>The header's <c>jwk</c>, known or imported, if it is a public RSA or EC key of thumbprint <paramref name="jkt"/>; or why not.</summary>
    private (ProofKey? Key, string? Failure) Key(JsonWebToken jwt, string jkt)
    {
        JsonWebKey key;
        string text;
        try
        {
            using var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedHeader), FhirJson.DocumentOptions);
            if (!header.RootElement.TryGetProperty("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
            {
                return (null, "its header has no jwk (the public key)");
            }

            foreach (var member in PrivateMembers)
            {
                if (jwk.TryGetProperty(member, out _))
                {
                    return (null, "its jwk has a private or symmetric key part; only the public key belongs there");
                }
            }

            text = jwk.GetRawText();
            if (_keys.TryGetValue(text, out ProofKey? known))
            {
                return DpopProofs.FixedEquals(known!.Thumbprint, jkt) ? (known, null) : (null, NotBound);
            }

            key = new JsonWebKey(text);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
        {
            return (null, "its jwk is not a JSON Web Key");
        }

        if (key.Kty is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve) || !key.CanComputeJwkThumbprint())
        {
            return (null, "its jwk is not an RSA or EC public key");
        }

        var thumbprint = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        if (!DpopProofs.FixedEquals(thumbprint, jkt))
        {
            return (null, NotBound);
        }

        var proofKey = new ProofKey(thumbprint, Parameters(key));
        _keys.Set(text, proofKey, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = KeyLifetime });
        return (proofKey, null);
    }

    private const string NotBound = "its key (jwk) is not the one the access token is bound to (cnf.jkt)";

    /// <summary>How a proof of <paramref name="key"/> is verified: its signature by that key and an allowed alg, nothing else (<see cref="DpopProofs"/> checks the claims).</summary>
    private TokenValidationParameters Parameters(JsonWebKey key) => new()
    {
        IssuerSigningKey = key,
        TryAllIssuerSigningKeys = true,
        ValidAlgorithms = _settings.DpopAlgorithms,
        RequireSignedTokens = true,
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = false,
        RequireExpirationTime = false,
        ValidateIssuerSigningKey = false,
    };

    /// <summary>A client's DPoP key that a bound token named: its thumbprint and what verifies its proofs.</summary>
    public sealed record ProofKey(string Thumbprint, TokenValidationParameters Parameters);

}
