using Hearth.Grains.Abstractions;
using Microsoft.Extensions.Logging;

namespace Hearth.Grains;

/// <summary>
/// The gateways' subscriptions to cache changes, in memory. A subscription lapses after
/// <see cref="SubscriptionLifetime"/> without renewal; a gateway that does not apply a change within
/// <see cref="ObserverTimeout"/> is dropped, and told so (false) at its next subscription. A new
/// activation (after a silo failure) has no subscriptions: every gateway is told the same.
/// </summary>
internal sealed partial class CacheEventsGrain(TimeProvider time, ILogger<CacheEventsGrain> logger) : Grain, ICacheEventsGrain
{
    public static readonly TimeSpan SubscriptionLifetime = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ObserverTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Gateways are few; this bounds what a misbehaving client could add.</summary>
    public const int MaxSubscribers = 1_000;

    private readonly Dictionary<ICacheObserver, DateTimeOffset> _subscribers = [];

    public Task<bool> SubscribeAsync(ICacheObserver observer)
    {
        var now = time.GetUtcNow();
        foreach (var lapsed in _subscribers.Where(s => s.Value <= now).Select(s => s.Key).ToList())
        {
            _subscribers.Remove(lapsed);
        }

        var known = _subscribers.ContainsKey(observer);
        if (known || _subscribers.Count < MaxSubscribers)
        {
            _subscribers[observer] = now + SubscriptionLifetime;
        }

        return Task.FromResult(known);
    }

    public async Task PublishAsync(CacheChange change)
    {
        var observers = _subscribers.Keys.ToList();
        var calls = observers.Select(o => o.ChangedAsync(change).WaitAsync(ObserverTimeout)).ToList();
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception)
        {
            // Each failed call is looked at below.
        }

        for (var i = 0; i < observers.Count; i++)
        {
            if (!calls[i].IsCompletedSuccessfully)
            {
                _subscribers.Remove(observers[i]);
                LogDropped(logger, calls[i].Exception?.InnerException?.GetType().Name ?? "timeout");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A gateway did not apply a cache change ({Failure}): dropped; it empties its caches at its next subscription")]
    private static partial void LogDropped(ILogger logger, string failure);
}
