using Hearth.ServiceDefaults;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;
using Microsoft.Extensions.Caching.Memory;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// JWT access tokens validated in the gateway, without a grain round trip: each token (by its
/// hash) validated once and its parsed grants kept until its exp in a bounded cache; nothing
/// outlives the token. A token on the cluster's revocation list is refused until its exp.
/// </summary>
internal sealed partial class LocalTokens(
    HearthSettings settings, Revocations revocations, TimeProvider time, ILogger<LocalTokens> logger, JwtValidator? validator = null) : IDisposable
{
    /// <summary>Validated tokens kept at once; beyond, the least recently used go (and are validated again when they come back).</summary>
    public const int MaxEntries = 100_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    /// <summary>Whether <paramref name="token"/> is validated here (HEARTH_TOKEN_VALIDATION=jwt, or both and a JWS of the issuer) rather than introspected.</summary>
    public bool Handles(string token) => settings.AuthorizationServer.TokenValidation switch
    {
        TokenValidation.Jwt => true,
        TokenValidation.Both => validator!.IsFromIssuer(token),
        _ => false,
    };

    public async Task<(Principal? Principal, Refusal? Refusal)> AuthenticateAsync(string token, string tokenHash, CancellationToken cancellationToken)
    {
        if (revocations.IsRevoked(tokenHash))
        {
            return (null, new Refusal.InvalidToken("it has been revoked"));
        }

        if (_cache.TryGetValue(tokenHash, out Principal? cached) && cached!.ExpiresAt > time.GetUtcNow())
        {
            HearthTelemetry.TokenCache.Add(1, new KeyValuePair<string, object?>("result", "hit"));
            return cached.Permissions.Malformed is { } unusable ? (null, new Refusal.InvalidToken(unusable)) : (cached, null);
        }

        HearthTelemetry.TokenCache.Add(1, new KeyValuePair<string, object?>("result", "miss"));
        var outcome = await validator!.ValidateAsync(token, cancellationToken);
        if (outcome.IssuerUnavailable)
        {
            return (null, new Refusal.AuthorizationServerUnavailable());
        }

        if (outcome.Claims is not { } claims || outcome.ExpiresAt <= time.GetUtcNow())
        {
            LogInvalid(logger, TokenKey.ForLog(tokenHash), outcome.Failure ?? "it has expired");
            return (null, new Refusal.InvalidToken(outcome.Failure ?? "it has expired"));
        }

        var permissions = PermissionSet.From(claims.PermissionsJson, claims.Scopes, claims.Patient, claims.PurposeOfUse,
            new Hearth.Authorization.Policies.ConsentRequester(claims.ClientId, claims.FhirUser, claims.PurposeOfUse, BreakGlassAllowed: false) { Organization = claims.Organization });
        foreach (var problem in permissions.Problems)
        {
            LogScopeProblem(logger, TokenKey.ForLog(tokenHash), problem);
        }

        // A malformed token is kept too (until its exp), so that it is parsed and logged once, and refused every time.
        var principal = new Principal(permissions, outcome.ExpiresAt, tokenHash) 
        {
            Subject = claims.Subject,
            ClientId = claims.ClientId,
            Patient = claims.Patient,
            Binding = claims.Binding,
            PurposeOfUse = claims.PurposeOfUse,
            FhirUser = claims.FhirUser,
        };
        _cache.Set(tokenHash, principal, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = outcome.ExpiresAt });
        if (permissions.Malformed is { } malformed)
        {
            LogInvalid(logger, TokenKey.ForLog(tokenHash), malformed);
            return (null, new Refusal.InvalidToken(malformed));
        }

        return (principal, null);
    }

    /// <summary>The exp of a token this gateway validated, if it still holds it (for a revocation's end).</summary>
    public DateTimeOffset? KnownExpiry(string tokenHash) => _cache.TryGetValue(tokenHash, out Principal? cached) ? cached!.ExpiresAt : null;

    /// <summary>Forgets a validated token here (an eviction; the revocation list refuses it everywhere).</summary>
    public void Forget(string tokenHash) => _cache.Remove(tokenHash);

    /// <summary>
    /// Forgets the issuer's keys and every token validated with them (an admin key refresh): the
    /// next token waits for the keys to be fetched again, and each is validated again with them.
    /// </summary>
    public void ForgetKeys()
    {
        validator?.Keys.Reset();
        _cache.Clear();
    }

    public void Dispose() => _cache.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "JWT {TokenHash} refused: {Reason}")]
    private static partial void LogInvalid(ILogger logger, string tokenHash, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token {TokenHash}: a SMART scope grants nothing: {Problem}")]
    private static partial void LogScopeProblem(ILogger logger, string tokenHash, string problem);
}
