using System.Text;
using System.Text.Json;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Tokens;

/// <summary>A locally validated JWT: what it grants and until when; or, in general words, why it is not valid.</summary>
internal sealed record JwtOutcome(TokenClaims? Claims, DateTimeOffset ExpiresAt, string? Failure, bool IssuerUnavailable = false)
{
    public static JwtOutcome Invalid(string failure) => new(null, default, failure);
}

/// <summary>
/// Validates JWT access tokens with Microsoft.IdentityModel (<see cref="JsonWebTokenHandler"/>) to
/// the JWT access-token profile (RFC 9068, RFC 8725): first the header, unverified and cheap:
/// <c>typ</c> one of HEARTH_JWT_ACCEPTED_TYPES (<c>at+jwt</c>: an ID token or a logout token of the
/// same issuer is no access token), no <c>crit</c> (Hearth understands no extension, RFC 7515
/// §4.1.11); then the signature by a key of the issuer, <c>alg</c> in HEARTH_JWT_ALGORITHMS (never
/// none, never HMAC), <c>iss</c>, <c>aud</c> exactly one of HEARTH_JWT_AUDIENCE (no trailing-slash
/// leniency), <c>exp</c> (required) and <c>nbf</c> with HEARTH_JWT_CLOCK_SKEW_SECONDS; then <c>iat</c>
/// not in the future. No JOSE is written here.
/// </summary>
internal sealed class JwtValidator(HearthSettings settings, SigningKeys keys)
{
    private readonly JwtSettings _settings = settings.AuthorizationServer.Jwt ?? throw new InvalidOperationException("JWT validation is not configured.");
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The issuer's keys this validator trusts.</summary>
    public SigningKeys Keys => keys;

    /// <summary>
    /// Whether <paramref name="token"/> is a JWS that names HEARTH_JWT_ISSUER as its <c>iss</c>
    /// (read, not trusted): in <c>both</c> mode such tokens are validated locally, the rest introspected.
    /// </summary>
    public bool IsFromIssuer(string token)
    {
        if (!_handler.CanReadToken(token))
        {
            return false;
        }

        try
        {
            var jwt = _handler.ReadJsonWebToken(token);
            return !jwt.IsEncrypted && string.Equals(jwt.Issuer, _settings.Issuer, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return false;
        }
    }

    public async Task<JwtOutcome> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return JwtOutcome.Invalid("it is not a JWT");
        }

        var outcome = await ValidateOnceAsync(token, cancellationToken);
        if (outcome.Failure == UnknownKey && await keys.RefreshForUnknownKeyAsync(cancellationToken))
        {
            outcome = await ValidateOnceAsync(token, cancellationToken); // a rotated key is honoured at once
        }

        return outcome;
    }

    private const string UnknownKey = "it is signed by a key the issuer does not publish";

    private async Task<JwtOutcome> ValidateOnceAsync(string token, CancellationToken cancellationToken)
    {
        if (await keys.CurrentAsync(cancellationToken) is not { } configuration)
        {
            return new JwtOutcome(null, default, "the issuer's keys cannot be fetched", IssuerUnavailable: true);
        }

        if (Profile(token) is { } refused)
        {
            return JwtOutcome.Invalid(refused);
        }

        var parameters = new TokenValidationParameters
        {
            IgnoreTrailingSlashWhenValidatingAudience = false,
            ValidIssuer = _settings.Issuer,
            ValidAudiences = _settings.Audiences,
            ValidAlgorithms = _settings.Algorithms,
            IssuerSigningKeys = configuration.SigningKeys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = _settings.ClockSkew,
            TryAllIssuerSigningKeys = false,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return JwtOutcome.Invalid(Failure(result.Exception));
        }

        if (jwt.TryGetPayloadValue<long>("iat", out var iat) && DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iat, 0, 253402300799)) > DateTimeOffset.UtcNow + _settings.ClockSkew)
        {
            return JwtOutcome.Invalid("it was issued in the future (iat)");
        }

        using var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload)));
        return new JwtOutcome(TokenClaims.Read(payload.RootElement), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), null);
    }

    /// <summary>The header checks of the profile, before any signature is checked; null when they pass.</summary>
    private string? Profile(string token)
    {
        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return "it is not a valid signed JWT";
        }

        if (jwt.IsEncrypted)
        {
            return "it is encrypted (JWE), and Hearth validates signed access tokens only";
        }

        if (!jwt.TryGetHeaderValue<string>("typ", out var typ) || !_settings.AcceptedTypes.Contains(JwtSettings.NormalType(typ), StringComparer.Ordinal))
        {
            return $"its type (typ) is not that of an access token ({string.Join(" or ", _settings.AcceptedTypes)})";
        }

        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return "its header lists critical extensions (crit) that Hearth does not understand";
        }

        return null;
    }

    /// <summary>Which check failed, in general words: never the token, never a key.</summary>
    private static string Failure(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "it has expired",
        SecurityTokenNotYetValidException => "it is not valid yet (nbf)",
        SecurityTokenNoExpirationException => "it has no exp",
        SecurityTokenInvalidAudienceException => "its audience (aud) is not accepted",
        SecurityTokenInvalidIssuerException => "its issuer (iss) is not the configured one",
        SecurityTokenInvalidAlgorithmException => "its signing algorithm is not allowed",
        SecurityTokenSignatureKeyNotFoundException => UnknownKey,
        SecurityTokenInvalidSignatureException => "its signature is missing or does not verify",
        SecurityTokenInvalidLifetimeException => "its lifetime is invalid",
        _ => "it is not a valid signed JWT",
    };
}
