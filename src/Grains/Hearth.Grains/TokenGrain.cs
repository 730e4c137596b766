using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Tokens;
using Hearth.Grains.Abstractions;
using Hearth.Grains.Clients;
using Hearth.ServiceDefaults;
using Microsoft.Extensions.Logging;

namespace Hearth.Grains;

/// <summary>
/// One token's introspection result, cached until the token's exp (capped by
/// HEARTH_TOKEN_CACHE_MAX_SECONDS); inactive answers for HEARTH_INACTIVE_TOKEN_CACHE_SECONDS.
/// Orleans runs one call at a time per grain, so concurrent first requests cause one introspection.
/// </summary>
[Orleans.Placement.RandomPlacement]
internal sealed partial class TokenGrain(IntrospectionClient client, HearthSettings settings, TimeProvider time, ILogger<TokenGrain> logger)
    : Grain, ITokenGrain
{
    private TokenInfo? _cached;
    private DateTimeOffset _cachedUntil;

    public async Task<TokenInfo> IntrospectAsync(SecretToken secret)
    {
        var token = secret.Value;
        var key = this.GetPrimaryKeyString();
        if (!string.Equals(TokenKey.Hash(token), key, StringComparison.Ordinal))
        {
            // A caller that does not hold the token may not read or fill this grain's cache.
            return TokenInfo.Inactive;
        }

        var now = time.GetUtcNow();
        if (_cached is not null && now < _cachedUntil)
        {
            return _cached;
        }

        _cached = null;
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var answer = await client.IntrospectAsync(token, CancellationToken.None);
            HearthTelemetry.IntrospectionDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            now = time.GetUtcNow();
            if (!answer.Active || answer.ExpiresAt <= now)
            {
                _cached = TokenInfo.Inactive;
                _cachedUntil = now + settings.AuthorizationServer.InactiveTokenCache;
            }
            else
            {
                var claims = answer.Claims;
                _cached = Active(answer.ExpiresAt, claims);
                var parsed = PermissionSet.From(null, claims.Scopes, claims.Patient);
                foreach (var problem in parsed.Malformed is { } malformed ? [malformed] : parsed.Problems)
                {
                    LogScopeProblem(logger, TokenKey.ForLog(key), problem); // once per introspection; each gateway refuses the token (401)
                }

                var cap = now + settings.AuthorizationServer.TokenCacheMax;
                _cachedUntil = answer.ExpiresAt is { } exp && exp < cap ? exp : cap;
                _cached = _cached with { CachedUntil = _cachedUntil };
            }

            HearthTelemetry.Introspections.Add(1, new KeyValuePair<string, object?>("result", _cached.Status == TokenStatus.Active ? "active" : "inactive"));
            LogIntrospected(logger, TokenKey.ForLog(key), _cached.Status, _cached.ExpiresAt);
            return _cached;
        }
        catch (AuthorizationServerUnavailableException e)
        {
            HearthTelemetry.Introspections.Add(1, new KeyValuePair<string, object?>("result", "unavailable"));
            LogUnavailable(logger, TokenKey.ForLog(key), e.Message);
            return TokenInfo.Unavailable;
        }
    }

    /// <summary>What the gateway needs of an active token's claims.</summary>
    private static TokenInfo Active(DateTimeOffset? expiresAt, TokenClaims claims) => new(TokenStatus.Active, expiresAt, claims.PermissionsJson)
    {
        Scopes = claims.Scopes,
        Patient = claims.Patient,
        Subject = claims.Subject,
        ClientId = claims.ClientId,
        PurposeOfUse = claims.PurposeOfUse,
        FhirUser = claims.FhirUser,
        Organization = claims.Organization,
        BoundKey = claims.Binding.Jkt,
        BoundCertificate = claims.Binding.CertificateThumbprint,
        BindingUnusable = claims.Binding.Unusable,
    };

    public Task EvictAsync()
    {
        _cached = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Introspected token {TokenHash}: {Status}, expires {ExpiresAt}")]
    private static partial void LogIntrospected(ILogger logger, string tokenHash, TokenStatus status, DateTimeOffset? expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token {TokenHash}: a SMART scope grants nothing: {Problem}")]
    private static partial void LogScopeProblem(ILogger logger, string tokenHash, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Introspection of token {TokenHash} failed: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string tokenHash, string reason);
}
