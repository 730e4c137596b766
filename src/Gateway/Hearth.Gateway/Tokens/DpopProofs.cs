using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Responses;
using Hearth.Grains.Abstractions;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// Checks the DPoP proof (RFC 9449 §4.3) of a request that presents a DPoP-bound token, in this
/// order, each failure its own words (never the proof or the token): exactly one <c>DPoP</c>
/// header, a JWS (Microsoft.IdentityModel reads and verifies it; no JOSE is written here) with
/// <c>typ</c> <c>dpop+jwt</c>, no <c>crit</c>, an <c>alg</c> of HEARTH_DPOP_ALGORITHMS, a public
/// <c>jwk</c> (RSA or EC, no private member) whose signature it bears; <c>jti</c>, <c>htm</c> equal
/// to the method, <c>htu</c> equal to the URL the client sent to (scheme, host, port, path; the
/// public base behind a proxy; a proof's <c>htu</c> with a query or fragment is refused), <c>iat</c>
/// within HEARTH_DPOP_MAX_AGE_SECONDS (and at most HEARTH_DPOP_CLOCK_SKEW_SECONDS ahead), <c>ath</c>
/// the SHA-256 of the token, the key's RFC 7638 thumbprint the token's <c>cnf.jkt</c>; then the
/// server nonce (HEARTH_DPOP_NONCE); last the replay cache: the <c>jti</c> of that key accepted once,
/// cluster-wide, while its proof could be accepted (<see cref="IDpopReplayGrain"/>). A proof
/// is checked once per HTTP request: a batch's entries and a paging link's request need no other.
/// </summary>
internal sealed partial class DpopProofs(HearthSettings settings, IGrainFactory grains, TimeProvider time, ILogger<DpopProofs> logger)
{
    public const string HeaderName = "DPoP";
    public const string NonceHeaderName = "DPoP-Nonce";

    /// <summary>The largest proof read (an RSA-4096 key in its header fits well inside).</summary>
    public const int MaxProofLength = 8192;

    private const int MaxJtiLength = 256;

    private readonly SenderConstraintSettings _settings = settings.AuthorizationServer.SenderConstraints;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly DpopNonces _nonces = new(settings.AuthorizationServer.SenderConstraints, grains, time);
    private readonly DpopProofHeaders _headers = new(settings.AuthorizationServer.SenderConstraints);

    /// <summary>The replay cache's shards, each reference made once (Orleans resolves a grain interface by reflection on every GetGrain).</summary>
    private readonly IDpopReplayGrain?[] _shards = new IDpopReplayGrain?[IDpopReplayGrain.Shards];

    /// <summary>The <c>algs</c> of a DPoP challenge.</summary>
    public string Algorithms => _headers.Algorithms;

    public bool NoncesRequired => _settings.DpopNonce;

    /// <summary>A nonce to hand out with an answer (<c>DPoP-Nonce</c>), when nonces are on.</summary>
    public ValueTask<string> CurrentNonceAsync() => _nonces.CurrentAsync();

    /// <summary>
    /// Null when the request's proof is sound for <paramref name="token"/> bound to <paramref name="jkt"/>;
    /// else the refusal (<see cref="Refusal.InvalidDpopProof"/>, <see cref="Refusal.DpopNonceRequired"/>, or 503 when the replay cache cannot be asked).
    /// </summary>
    /// <param name="target">The URL the client sent the request to, without query: what <c>htu</c> must be.</param>
    public async ValueTask<Refusal?> CheckAsync(StringValues proofs, string method, string target, string token, string jkt, CancellationToken cancellationToken)
    {
        if (proofs.Count != 1 || proofs[0] is not { Length: > 0 } proof)
        {
            return Invalid(proofs.Count == 0 ? "the request has no DPoP header" : "the request has more than one DPoP header");
        }

        if (proof.Length > MaxProofLength || proof.Contains(',', StringComparison.Ordinal))
        {
            return Invalid(proof.Length > MaxProofLength ? "it is longer than 8192 characters" : "the request has more than one DPoP proof");
        }

        var (read, key, headerFailure) = _headers.Read(proof, jkt);
        if (headerFailure is not null || read is null || key is null)
        {
            return Invalid(headerFailure ?? "it is not a signed JWT");
        }

        var result = await _handler.ValidateTokenAsync(read, key.Parameters);
        if (!result.IsValid)
        {
            return Invalid(result.Exception is SecurityTokenInvalidAlgorithmException
                ? $"its alg is not one of {Algorithms}"
                : "its signature does not verify with the key in its header (jwk)");
        }

        var (failure, jti, iat) = Claims(read, method, target, token);
        if (failure is not null)
        {
            return Invalid(failure);
        }

        var thumbprint = key.Thumbprint;

        if (_settings.DpopNonce)
        {
            read.TryGetPayloadValue<string>("nonce", out var nonce);
            if (!await _nonces.IsValidAsync(nonce))
            {
                return new Refusal.DpopNonceRequired(await _nonces.CurrentAsync());
            }
        }

        return await ReplayAsync(thumbprint, jti, iat, cancellationToken);
    }

    /// <summary>The replay cache's word on this proof (its key's thumbprint and jti): null the first time.</summary>
    private async ValueTask<Refusal?> ReplayAsync(string thumbprint, string jti, DateTimeOffset iat, CancellationToken cancellationToken)
    {
        var entry = Entry(thumbprint, jti);
        var shard = _shards[entry.Shard] ??= grains.GetGrain<IDpopReplayGrain>(entry.Shard);
        var use = await shard.UseAsync(entry, iat, iat + _settings.DpopMaxAge + _settings.DpopClockSkew).WaitAsync(cancellationToken);
        switch (use)
        {
            case DpopUse.Accepted:
                return null;
            case DpopUse.Replayed:
                LogReplay(logger);
                return Invalid("its jti was used before: a proof is good for one request");
            case DpopUse.BeforeStart:
                return Invalid("it was made before the replay cache started (a restart): make a new proof");
            default:
                LogFull(logger);
                return Refusal.Problem(503, "transient", "Too many DPoP proofs are in use at once; try again later.");
        }
    }

    /// <summary>The proof's claims checked (RFC 9449 §4.3 steps 8 to 11): why not, or its jti and iat.</summary>
    private (string? Failure, string Jti, DateTimeOffset IssuedAt) Claims(JsonWebToken read, string method, string target, string token)
    {
        if (!read.TryGetPayloadValue<string>("jti", out var jti) || jti is not { Length: > 0 and <= MaxJtiLength })
        {
            return ("it has no jti (a string of at most 256 characters)", "", default);
        }

        if (!read.TryGetPayloadValue<string>("htm", out var htm) || htm is null || !string.Equals(htm, method, StringComparison.Ordinal))
        {
            return ("its htm is not the request's method", "", default);
        }

        if (!read.TryGetPayloadValue<string>("htu", out var htu) || htu is null)
        {
            return ("it has no htu", "", default);
        }

        if (HtuFailure(htu, target) is { } htuFailure)
        {
            return (htuFailure, "", default);
        }

        if (!read.TryGetPayloadValue<long>("iat", out var iatSeconds))
        {
            return ("it has no iat (seconds since the epoch)", "", default);
        }

        var now = time.GetUtcNow();
        var iat = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iatSeconds, 0, 253402300799));
        if (iat < now - _settings.DpopMaxAge)
        {
            return ($"its iat is more than {(int)_settings.DpopMaxAge.TotalSeconds} s old: make a new proof for each request", "", default);
        }

        if (iat > now + _settings.DpopClockSkew)
        {
            return ("its iat is in the future", "", default);
        }

        if (!read.TryGetPayloadValue<string>("ath", out var ath) || ath is null || !FixedEquals(ath, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(token)))))
        {
            return (ath is null ? "it has no ath (the access token's SHA-256)" : "its ath is not the SHA-256 of the access token it comes with", "", default);
        }

        return (null, jti!, iat);
    }

    /// <summary>Why <paramref name="htu"/> is not <paramref name="target"/> (RFC 3986 syntax- and scheme-based normalisation); null when it is.</summary>
    internal static string? HtuFailure(string htu, string target)
    {
        if (!Uri.TryCreate(htu, UriKind.Absolute, out var claimed) || claimed.Scheme is not ("http" or "https"))
        {
            return "its htu is not an absolute http(s) URL";
        }

        if (claimed.Query.Length > 0 || claimed.Fragment.Length > 0 || htu.Contains('?', StringComparison.Ordinal) || htu.Contains('#', StringComparison.Ordinal))
        {
            return "its htu has a query or fragment; it must be the request's URL without them";
        }

        var expected = new Uri(target, UriKind.Absolute);
        const UriComponents parts = UriComponents.Scheme | UriComponents.Host | UriComponents.Port | UriComponents.Path;
        return Uri.Compare(claimed, expected, parts, UriFormat.UriEscaped, StringComparison.Ordinal) == 0
            ? null
            : "its htu is not the URL of this request";
    }

    /// <summary>The replay cache's entry: the first 16 bytes of SHA-256(thumbprint, jti), never the proof.</summary>
    private static DpopEntry Entry(string thumbprint, string jti)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(thumbprint + "\n" + jti), hash);
        return new DpopEntry(BinaryPrimitives.ReadUInt64BigEndian(hash), BinaryPrimitives.ReadUInt64BigEndian(hash[8..]));
    }

    internal static bool FixedEquals(string a, string b)
        => a.Length == b.Length && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private Refusal.InvalidDpopProof Invalid(string reason)
    {
        LogInvalid(logger, reason);
        return new Refusal.InvalidDpopProof(reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "DPoP proof refused: {Reason}")]
    private static partial void LogInvalid(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A DPoP proof was replayed (its jti was used before for the same key)")]
    private static partial void LogReplay(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A DPoP replay-cache shard is full: proofs are refused (503) until entries end")]
    private static partial void LogFull(ILogger logger);
}
