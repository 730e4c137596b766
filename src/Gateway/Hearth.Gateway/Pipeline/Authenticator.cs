using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Tokens;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Resolution;
using Hearth.Gateway.Tokens;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// Who asks: the bearer token (RFC 6750 header; <c>access_token</c> in the query only with
/// HEARTH_ALLOW_QUERY_TOKENS) checked through its TokenGrain (key: the token's SHA-256; one
/// introspection per token per cluster, cached until exp). A grain call that fails throws: the
/// caller maps it to 503 once, with every other failure. JWT access tokens of the configured
/// issuer are validated in the gateway instead (<see cref="LocalTokens"/>). An introspected token's
/// grants are kept in the gateway as long as its grain keeps them (<see cref="GatewayCaches"/>).
/// </summary>
internal sealed partial class Authenticator(GatewaySettings settings, IGrainFactory grains, LocalTokens localTokens, GatewayCaches caches, TimeProvider time, ILogger<Authenticator> logger)
{
    private readonly Func<string, bool> _local = localTokens.Handles; // one delegate, not one per request

    /// <summary>The token's principal (and the token as read, for the checks of what it is bound to), or why not.</summary>
    public async ValueTask<(Principal? Principal, Refusal? Refusal, ConnectionToken? Read)> AuthenticateAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (context.Request.QueryString.HasValue && context.Request.Query.TryGetValue("access_token", out var queryToken))
        {
            // RFC 6750 §2.3 puts tokens where logs and Referer headers see them: refused unless configured.
            if (!settings.AllowQueryTokens || authorization.Count > 0 || queryToken.Count != 1)
            {
                return (null, new Refusal.MalformedAuthorization(), null);
            }

            authorization = "Bearer " + queryToken[0];
        }

        switch (ConnectionToken.Read(context, authorization, _local, out var read))
        {
            case BearerTokenStatus.Missing:
                return (null, new Refusal.NoToken(), null);
            case BearerTokenStatus.Malformed:
                return (null, new Refusal.MalformedAuthorization(), null);
        }

        var (token, tokenHash) = (read!.Token, read.Hash);
        if (read.Local)
        {
            var (validated, invalid) = await localTokens.AuthenticateAsync(token, tokenHash, context.RequestAborted);
            return (validated, invalid, read);
        }

        if (caches.Grants.TryGet(tokenHash, out var cached) && !(cached.ExpiresAt <= time.GetUtcNow()))
        {
            HearthTelemetry.TokenCache.Add(1, new KeyValuePair<string, object?>("result", "hit"));
            return cached.Permissions.Malformed is { } malformed ? (null, new Refusal.InvalidToken(malformed), read) : (cached, null, read);
        }

        HearthTelemetry.TokenCache.Add(1, new KeyValuePair<string, object?>("result", "miss"));

        var generation = caches.Generation;
        var info = await grains.GetGrain<ITokenGrain>(tokenHash).IntrospectAsync(new SecretToken(token));
        if (info.Status == TokenStatus.Unavailable)
        {
            return (null, new Refusal.AuthorizationServerUnavailable(), read);
        }

        if (info.Status != TokenStatus.Active || info.ExpiresAt <= time.GetUtcNow())
        {
            LogInactive(logger, TokenKey.ForLog(tokenHash));
            return (null, new Refusal.InvalidToken(), read);
        }

        var principal = new Principal(ParsedPermissions.For(info), info.ExpiresAt, tokenHash)
        {
            Subject = info.Subject,
            ClientId = info.ClientId,
            Patient = info.Patient,
            PurposeOfUse = info.PurposeOfUse,
            FhirUser = info.FhirUser,
            Binding = new TokenBinding(info.BoundKey, info.BoundCertificate, info.BindingUnusable),
        };
        caches.Grants.Set(tokenHash, principal, info.CachedUntil, generation);
        return principal.Permissions.Malformed is { } tooMany ? (null, new Refusal.InvalidToken(tooMany), read) : (principal, null, read);
    }



    [LoggerMessage(Level = LogLevel.Information, Message = "Token {TokenHash} is not active")]
    private static partial void LogInactive(ILogger logger, string tokenHash);
}
