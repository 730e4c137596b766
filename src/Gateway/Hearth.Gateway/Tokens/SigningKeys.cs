using Hearth.Authorization.Configuration;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// The issuer's signing keys, through Microsoft.IdentityModel's <see cref="ConfigurationManager{T}"/>:
/// OpenID discovery (<c>{issuer}/.well-known/openid-configuration</c> → <c>jwks_uri</c>), or
/// HEARTH_JWKS_URL directly. Fetched once and cached, refreshed on the manager's schedule; a
/// token signed by an unknown <c>kid</c> triggers at most one fetch per HEARTH_JWKS_REFRESH_SECONDS
/// (awaited, so that a rotated key is honoured at once); when the issuer is unreachable, the keys
/// already known keep working, for at most HEARTH_JWKS_MAX_AGE_SECONDS between fetches.
/// <see cref="Reset"/> (the admin's key refresh, on every gateway) forgets every key at once: the
/// next token waits for a new fetch, so a withdrawn key is trusted no longer. Discovery and keys
/// come over https only, unless HEARTH_JWT_ALLOW_HTTP.
/// </summary>
internal sealed partial class SigningKeys
{
    public const string HttpClientName = "hearth-jwks";

    /// <summary>How long one wait for a fetch of the keys may last.</summary>
    private static readonly TimeSpan FetchWait = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait, after a fetch, for the manager to keep what it fetched.</summary>
    private static readonly TimeSpan StoreWait = TimeSpan.FromSeconds(1);

    private readonly IDocumentRetriever _documents;
    private ConfigurationManager<OpenIdConnectConfiguration> _manager;
    private SignallingRetriever _retriever;
    private long _fetchesBefore;
    private readonly JwtSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<SigningKeys> _logger;
    private readonly Lock _gate = new();
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    public SigningKeys(HearthSettings settings, IHttpClientFactory httpClients, TimeProvider time, ILogger<SigningKeys> logger)
    {
        _settings = settings.AuthorizationServer.Jwt ?? throw new InvalidOperationException("JWT validation is not configured.");
        _time = time;
        _logger = logger;
        _documents = new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName)) { RequireHttps = !_settings.AllowHttp };
        (_manager, _retriever) = NewManager();
    }

    private (ConfigurationManager<OpenIdConnectConfiguration>, SignallingRetriever) NewManager()
    {
        var retriever = new SignallingRetriever(_settings.JwksUrl is null ? new OpenIdConnectConfigurationRetriever() : new JwksOnlyRetriever());
        var manager = new ConfigurationManager<OpenIdConnectConfiguration>(_settings.JwksUrl ?? _settings.DiscoveryUrl, retriever, _documents)
        {
            RefreshInterval = _settings.JwksRefresh,
            AutomaticRefreshInterval = _settings.KeysMaxAge,
        };
        return (manager, retriever);
    }

    /// <summary>How many times the keys were fetched (discovery and JWKS count as one).</summary>
    public long Fetches => Interlocked.Read(ref _fetchesBefore) + Volatile.Read(ref _retriever).Fetches;

    /// <summary>
    /// Forgets every key known: the next validation waits for a new fetch (of discovery and keys),
    /// and a key the issuer no longer publishes is no longer trusted. Does not wait for the fetch.
    /// </summary>
    public void Reset()
    {
        lock (_gate)
        {
            var (manager, retriever) = NewManager();
            Interlocked.Add(ref _fetchesBefore, _retriever.Fetches);
            Volatile.Write(ref _retriever, retriever);
            Volatile.Write(ref _manager, manager);
            _lastRefresh = DateTimeOffset.MinValue;
        }

        LogReset(_logger);
    }

    /// <summary>Fetches the keys now (after <see cref="Reset"/>); false when the issuer did not give them.</summary>
    public async Task<bool> FetchAsync(CancellationToken cancellationToken) => await CurrentAsync(cancellationToken) is not null;

    /// <summary>The configuration with the keys; null when it was never fetched (the issuer has been unreachable since start).</summary>
    public async Task<OpenIdConnectConfiguration?> CurrentAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await Volatile.Read(ref _manager).GetConfigurationAsync(cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            LogUnavailable(_logger, e.GetType().Name);
            return null;
        }
    }

    /// <summary>
    /// For a token whose <c>kid</c> no known key has: fetches the keys again, at most once per
    /// HEARTH_JWKS_REFRESH_SECONDS, and waits for that fetch. False when no fetch was allowed (a
    /// flood of made-up kids causes no fetch storm).
    /// </summary>
    public async Task<bool> RefreshForUnknownKeyAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (now - _lastRefresh < _settings.JwksRefresh)
            {
                return false;
            }

            _lastRefresh = now;
        }

        var (manager, retriever) = (Volatile.Read(ref _manager), Volatile.Read(ref _retriever));
        var fetched = retriever.NextFetch;
        var known = retriever.Latest;
        manager.RequestRefresh();
        try
        {
            await manager.GetConfigurationAsync(cancellationToken); // starts the fetch when RequestRefresh did not
        }
        catch (InvalidOperationException)
        {
            return false; // never fetched, and the issuer does not answer: CurrentAsync says so
        }

        await fetched.WaitAsync(FetchWait, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);

        // The manager keeps what the retriever returned just after it returned: wait (briefly) until it does.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (retriever.Latest is { } fresh && !ReferenceEquals(fresh, known) && waited.Elapsed < StoreWait
               && !ReferenceEquals(await manager.GetConfigurationAsync(cancellationToken), fresh))
        {
            await Task.Delay(5, cancellationToken);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The JWT issuer's keys were forgotten (admin refresh): they are fetched again for the next token")]
    private static partial void LogReset(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The JWT issuer's keys are not available yet ({Reason}): tokens cannot be validated")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    /// <summary>Wraps the real retriever: counts fetches and signals when one ends.</summary>
    private sealed class SignallingRetriever(IConfigurationRetriever<OpenIdConnectConfiguration> inner) : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _fetches;
        private OpenIdConnectConfiguration? _latest;

        public long Fetches => Interlocked.Read(ref _fetches);

        /// <summary>What the last successful fetch returned.</summary>
        public OpenIdConnectConfiguration? Latest => Volatile.Read(ref _latest);

        /// <summary>Completes when the next fetch (from now) ends, however it ends.</summary>
        public Task NextFetch => Volatile.Read(ref _next).Task;

        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            Interlocked.Increment(ref _fetches);
            try
            {
                var configuration = await inner.GetConfigurationAsync(address, retriever, cancel);
                Volatile.Write(ref _latest, configuration);
                return configuration;
            }
            finally
            {
                Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }
    }

    /// <summary>HEARTH_JWKS_URL: a JSON Web Key Set alone, read by Microsoft.IdentityModel's <see cref="JsonWebKeySet"/>.</summary>
    private sealed class JwksOnlyRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
            var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = keys, JwksUri = address };
            foreach (var key in keys.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}
