using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Tokens;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Caching;

/// <summary>
/// Keeps this gateway subscribed to the cluster's cache announcements (every <see cref="Period"/>)
/// and applies them: a token evicted (forgotten, and refused until its exp when it was validated
/// locally), a Patient or security context written. When a renewal fails, or the grain did not
/// know this gateway (a new activation after a silo failure, or it dropped this gateway for not
/// answering), announcements may have been missed: every local cache is emptied (and, once it
/// had been subscribed, the issuer's keys are forgotten too: a key refresh may have been missed).
/// </summary>
internal sealed partial class CacheSubscription(
    GatewayCaches caches, LocalTokens localTokens, Revocations revocations, IGrainFactory grains, TimeProvider time, ILogger<CacheSubscription> logger)
    : BackgroundService, ICacheObserver
{
    private bool _subscribed;

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private ICacheObserver? _reference;

    public Task ChangedAsync(CacheChange change)
    {
        Apply(change);
        return Task.CompletedTask;
    }

    /// <summary>Applies a change here (an announcement, or this gateway's own eviction).</summary>
    public void Apply(CacheChange change)
    {
        caches.Apply(change);
        if (change.Kind == CacheChangeKind.TokenEvicted)
        {
            localTokens.Forget(change.Key);
            if (change.RevokedUntil is { } until)
            {
                revocations.Add(new Revocation(change.Key, until));
            }
        }
        else if (change.Kind == CacheChangeKind.SigningKeysReset)
        {
            ForgetKeys();
        }
    }

    private void ForgetKeys() => localTokens.ForgetKeys();

    /// <summary>Subscribes or renews once; false (and every cache emptied) when announcements may have been missed.</summary>
    public async Task<bool> RenewAsync()
    {
        try
        {
            _reference ??= grains.CreateObjectReference<ICacheObserver>(this);
            var started = time.GetUtcNow();
            var known = await grains.GetGrain<ICacheEventsGrain>(0).SubscribeAsync(_reference);
            if (!known)
            {
                caches.Clear();
                if (_subscribed)
                {
                    ForgetKeys();
                }
            }

            _subscribed = true;
            // The grain keeps the subscription for 30 s; serving stops well before it could lapse.
            caches.LiveUntil(started + (2 * Period));
            return known;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            caches.Clear();
            LogRenewalFailed(logger, e.GetType().Name);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Until subscribed (start-up, the cluster away), tried again every second.
            var live = await RenewAsync() || caches.Live;
            await Task.Delay(live ? Period : TimeSpan.FromSeconds(1), stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Renewing the cache subscription failed ({ExceptionType}): local caches emptied")]
    private static partial void LogRenewalFailed(ILogger logger, string exceptionType);
}
