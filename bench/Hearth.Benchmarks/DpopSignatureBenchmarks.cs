using System.Security.Cryptography;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Benchmarks;

/// <summary>
/// What a DPoP proof's signature costs the gateway (issue 24), as Hearth checks it with
/// Microsoft.IdentityModel: an ES256 and an RS256 (2048-bit) proof, each new (a fresh jti: no
/// proof is verified twice), verified by a key kept from the client's earlier proofs (what the
/// gateway does) and by a key imported from the proof's <c>jwk</c> each time (what it did first).
/// The bench's DPoP read costs this on top of a bearer JWT read, whose token is validated once
/// and then found by its hash.
/// </summary>
[MemoryDiagnoser]
public class DpopSignatureBenchmarks
{
    private const int Proofs = 1024;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private string[] _es256 = null!;
    private string[] _rs256 = null!;
    private TokenValidationParameters _esKept = null!;
    private TokenValidationParameters _rsKept = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(false).Q;
        (_es256, _esKept) = Make(new ECDsaSecurityKey(ec), "ES256", new Dictionary<string, object> { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(q.X), ["y"] = Base64UrlEncoder.Encode(q.Y) });
        var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        (_rs256, _rsKept) = Make(new RsaSecurityKey(rsa), "RS256", new Dictionary<string, object> { ["kty"] = "RSA", ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) });
    }

    [Benchmark]
    public Task<bool> ES256_KeptKey() => Verify(_es256, _esKept);

    [Benchmark]
    public Task<bool> ES256_KeyImportedEachTime() => Verify(_es256, null);

    [Benchmark]
    public Task<bool> RS256_KeptKey() => Verify(_rs256, _rsKept);

    [Benchmark]
    public Task<bool> RS256_KeyImportedEachTime() => Verify(_rs256, null);

    private async Task<bool> Verify(string[] proofs, TokenValidationParameters? kept)
    {
        var proof = proofs[_next++ % Proofs];
        var read = _handler.ReadJsonWebToken(proof);
        var parameters = kept ?? For(Jwk(read));
        var result = await _handler.ValidateTokenAsync(read, parameters);
        return result.IsValid ? true : throw result.Exception;
    }

    private (string[] Proofs, TokenValidationParameters Kept) Make(SecurityKey key, string alg, Dictionary<string, object> jwk)
    {
        var proofs = Enumerable.Range(0, Proofs).Select(_ => _handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = "GET", ["htu"] = "https://hearth.example/fhir/Observation/1", ["iat"] = 1_800_000_000, ["ath"] = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" },
            TokenType = "dpop+jwt",
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = jwk },
            SigningCredentials = new SigningCredentials(key, alg),
        })).ToArray();
        return (proofs, For(Jwk(_handler.ReadJsonWebToken(proofs[0]))));
    }

    private static JsonWebKey Jwk(JsonWebToken read)
    {
        using var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(read.EncodedHeader));
        return new JsonWebKey(header.RootElement.GetProperty("jwk").GetRawText());
    }

    private static TokenValidationParameters For(JsonWebKey key) => new()
    {
        IssuerSigningKey = key,
        TryAllIssuerSigningKeys = true,
        ValidAlgorithms = ["ES256", "RS256"],
        RequireSignedTokens = true,
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = false,
        RequireExpirationTime = false,
        ValidateIssuerSigningKey = false,
    };
}
