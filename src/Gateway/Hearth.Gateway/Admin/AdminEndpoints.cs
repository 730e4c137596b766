using System.Security.Cryptography;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Hearth.Gateway.Tokens;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Admin;

/// <summary>
/// Operator endpoints, enabled only when HEARTH_ADMIN_KEY is set and authenticated by it
/// (<c>Authorization: Bearer {HEARTH_ADMIN_KEY}</c>). Their paths start with <c>/_hearth/</c>,
/// which is never a FHIR path.
/// <list type="bullet">
/// <item><c>POST /_hearth/admin/tokens/evict</c>, form <c>token=...</c> or <c>token_hash=...</c>:
/// forgets the cluster's cached introspection of that token at once; the next request re-introspects
/// (revoke the token at the authorization server first).</item>
/// <item><c>POST /_hearth/admin/patients/invalidate</c>, form <c>reference=Patient/{id}</c>:
/// forgets the cached identifiers of that Patient.</item>
/// </list>
/// </summary>
internal static partial class AdminEndpoints
{
    public const string Prefix = "/_hearth/admin";

    public static void MapAdminEndpoints(this WebApplication app, HearthSettings settings)
    {
        if (settings.Gateway.AdminKey is not { } key)
        {
            return; // disabled: such paths are then refused as unclassifiable, never forwarded
        }

        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var admin = app.MapGroup(Prefix).AddEndpointFilter(async (context, next) =>
        {
            var status = BearerToken.Read(context.HttpContext.Request.Headers.Authorization, out var presented);
            if (status != BearerTokenStatus.Present
                || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), expected))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"hearth-admin\"";
                return Outcome(401, "login", "The admin endpoints need the admin key as a bearer token.");
            }

            return await next(context);
        }).DisableAntiforgery();

        admin.MapPost("/tokens/evict", EvictAsync);
        admin.MapPost("/keys/refresh", RefreshKeysAsync);

        admin.MapPost("/patients/invalidate", async (HttpRequest request, ReferenceResolver patients, ILoggerFactory loggers) =>
        {
            var form = await ReadFormAsync(request);
            var reference = form?["reference"].FirstOrDefault() ?? "";
            if (PatientReference.Classify(reference, settings.FhirServer.Base, out var patient) != ReferenceKind.Patient)
            {
                return Outcome(400, "required", "Give the Patient as 'reference=Patient/{id}', form-encoded.");
            }

            await patients.InvalidateAsync(patient!);
            LogInvalidated(loggers.CreateLogger("Hearth.Admin"), patient!);
            return Results.NoContent();
        });
    }

    /// <summary>
    /// Forgets the cluster's cached introspection of a token, on every gateway before answering; a
    /// locally validated JWT cannot be re-asked, so it is refused until its exp, cluster-wide (every
    /// gateway told at once, and the revocation list for gateways that join later). 503 when not
    /// every gateway could be told (applied here; ask again).
    /// </summary>
    private static async Task<IResult> EvictAsync(
        HttpRequest request, HearthSettings settings, IGrainFactory grains, LocalTokens local, CacheSubscription subscription, RevocationSync sync, TimeProvider time, ILoggerFactory loggers)
    {
        var form = await ReadFormAsync(request);
        string? hash = form?["token_hash"].FirstOrDefault()?.ToLowerInvariant();
        DateTimeOffset? expiry = null;
        if (form?["token"].FirstOrDefault() is { Length: > 0 } token)
        {
            hash = TokenKey.Hash(token);
            expiry = UnverifiedExpiry(token);
        }

        if (hash is null || hash.Length != 64 || !hash.All(Uri.IsHexDigit))
        {
            return Outcome(400, "required", "Give the token as 'token' or its SHA-256 (hex) as 'token_hash', form-encoded.");
        }

        // A locally validated JWT cannot be re-asked: it is refused until its exp, cluster-wide.
        var change = new CacheChange(CacheChangeKind.TokenEvicted, hash, settings.AuthorizationServer.TokenValidation == TokenValidation.Introspection
            ? null : expiry ?? local.KnownExpiry(hash) ?? time.GetUtcNow() + UnknownExpiryRetention);
        subscription.Apply(change);
        try
        {
            await grains.GetGrain<ITokenGrain>(hash).EvictAsync();
            await grains.GetGrain<ICacheEventsGrain>(0).PublishAsync(change);
            if (change.RevokedUntil is not null)
            {
                await sync.SyncAsync();
            }
        }
        catch (Exception e) when (Failures.IsClusterTransient(e))
        {
            return Outcome(503, "transient", "The token is evicted on this gateway, but the cluster could not be told: evict it again.");
        }

        LogEvicted(loggers.CreateLogger("Hearth.Admin"), TokenKey.ForLog(hash));
        return Results.NoContent();
    }

    /// <summary>
    /// Fetches the JWT issuer's keys again at once, on every gateway: each forgets the keys it knows
    /// and the JWTs it validated with them before this answers, so a key the issuer withdrew is
    /// trusted nowhere from then on. This gateway then fetches the keys: 204 when the issuer gave
    /// them, 502 when it did not (JWTs are then refused, 503, until it does: nothing falls back to the
    /// withdrawn key); 503 when the cluster could not tell every gateway (ask again); 404 without JWT validation.
    /// </summary>
    private static async Task<IResult> RefreshKeysAsync(HttpContext context, IGrainFactory grains, CacheSubscription subscription, ILoggerFactory loggers)
    {
        if (context.RequestServices.GetService<SigningKeys>() is not { } keys)
        {
            return Outcome(404, "not-found", "JWT validation is off (HEARTH_TOKEN_VALIDATION=introspection): there are no issuer keys to refresh.");
        }

        var change = new CacheChange(CacheChangeKind.SigningKeysReset, "keys");
        subscription.Apply(change);
        try
        {
            await grains.GetGrain<ICacheEventsGrain>(0).PublishAsync(change);
        }
        catch (Exception e) when (Failures.IsClusterTransient(e))
        {
            return Outcome(503, "transient", "The keys are forgotten on this gateway, but the cluster could not tell the others: refresh again.");
        }

        LogKeysRefreshed(loggers.CreateLogger("Hearth.Admin"));
        return await keys.FetchAsync(context.RequestAborted)
            ? Results.NoContent()
            : Outcome(502, "transient", "Every gateway forgot the issuer's keys, but the issuer did not give them again: JWTs are refused until it does.");
    }

    /// <summary>How long a revocation lasts when the token's exp is not known (only its hash was given, and no gateway holds it).</summary>
    public static readonly TimeSpan UnknownExpiryRetention = TimeSpan.FromDays(7);

    /// <summary>The exp a JWT claims (read, not verified: it only sets how long its revocation lasts).</summary>
    private static DateTimeOffset? UnverifiedExpiry(string token)
    {
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler();
        try
        {
            return handler.CanReadToken(token) && handler.ReadJsonWebToken(token).ValidTo is { Year: > 1970 } exp ? new DateTimeOffset(exp, TimeSpan.Zero) : null;
        }
        catch (Exception e) when (e is ArgumentException or Microsoft.IdentityModel.Tokens.SecurityTokenMalformedException)
        {
            return null;
        }
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return null;
        }

        try
        {
            return await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static IResult Outcome(int status, string code, string diagnostics)
        => Results.Text(Hearth.Authorization.Responses.OperationOutcomes.CreateString(code, diagnostics),
            Hearth.Authorization.Responses.OperationOutcomes.ContentType, statusCode: status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin: evicted token {TokenHash}")]
    private static partial void LogEvicted(ILogger logger, string tokenHash);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin: the JWT issuer's keys are fetched again on every gateway")]
    private static partial void LogKeysRefreshed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin: invalidated {Patient}")]
    private static partial void LogInvalidated(ILogger logger, string patient);
}
