using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Testing;

/// <summary>
/// A client's DPoP key (ES256 unless another is given) and the proofs it signs (RFC 9449 §4.2),
/// made with Microsoft.IdentityModel as a client library would. <see cref="ProofOptions"/> bends a
/// proof the ways an attacker would.
/// </summary>
public sealed class DpopKey
{
    private readonly SecurityKey _signing;
    private readonly string _alg;

    public DpopKey(ECDsa? key = null)
    {
        var ec = key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _signing = new ECDsaSecurityKey(ec);
        _alg = SecurityAlgorithms.EcdsaSha256;
        var p = ec.ExportParameters(includePrivateParameters: true);
        PublicJwk = new Dictionary<string, object>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(p.Q.X),
            ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
        };
        PrivateJwk = new Dictionary<string, object>(PublicJwk) { ["d"] = Base64UrlEncoder.Encode(p.D) };
        Thumbprint = Base64UrlEncoder.Encode(new JsonWebKey
        {
            Kty = "EC",
            Crv = "P-256",
            X = (string)PublicJwk["x"],
            Y = (string)PublicJwk["y"],
        }.ComputeJwkThumbprint());
    }

    /// <summary>The public key as a JWK (what a proof's header carries).</summary>
    public IReadOnlyDictionary<string, object> PublicJwk { get; }

    /// <summary>The key with its private part: what a careless client might put in a header.</summary>
    public IReadOnlyDictionary<string, object> PrivateJwk { get; }

    /// <summary>The RFC 7638 thumbprint: a bound token's <c>cnf.jkt</c>.</summary>
    public string Thumbprint { get; }

    /// <summary>A proof for <paramref name="method"/> <paramref name="url"/> (query and fragment dropped unless the options keep them), for <paramref name="accessToken"/> (its ath) when given.</summary>
    public string Proof(string method, string url, string? accessToken = null, ProofOptions? options = null)
    {
        options ??= new ProofOptions();
        var htu = options.KeepQuery ? url : url.Split('?', '#')[0];
        var claims = new Dictionary<string, object>
        {
            ["jti"] = options.Jti ?? Guid.NewGuid().ToString("N"),
            ["htm"] = options.Htm ?? method,
            ["htu"] = options.Htu ?? htu,
            ["iat"] = (options.IssuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
        };
        if (accessToken is not null && !options.NoAth)
        {
            claims["ath"] = options.Ath ?? Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }

        if (options.Nonce is not null)
        {
            claims["nonce"] = options.Nonce;
        }

        var header = new Dictionary<string, object> { ["jwk"] = options.Jwk ?? PublicJwk };
        if (options.Crit)
        {
            header["crit"] = new[] { "urn:example:unknown" };
        }

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = options.Typ ?? "dpop+jwt",
            AdditionalHeaderClaims = header,
            SigningCredentials = options.Signing ?? new SigningCredentials(_signing, _alg),
        };
        return handler.CreateToken(descriptor);
    }
}

/// <summary>How a proof departs from a sound one.</summary>
public sealed record ProofOptions
{
    public string? Jti { get; init; }
    public string? Htm { get; init; }
    public string? Htu { get; init; }
    public bool KeepQuery { get; init; }
    public DateTimeOffset? IssuedAt { get; init; }
    public string? Ath { get; init; }
    public bool NoAth { get; init; }
    public string? Nonce { get; init; }
    public string? Typ { get; init; }
    public bool Crit { get; init; }

    /// <summary>The key put in the header, instead of the signing key's public JWK.</summary>
    public IReadOnlyDictionary<string, object>? Jwk { get; init; }

    /// <summary>Signs with these credentials instead (another key, an HMAC).</summary>
    public SigningCredentials? Signing { get; init; }
}
