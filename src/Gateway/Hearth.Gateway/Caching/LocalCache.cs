using Microsoft.Extensions.Caching.Memory;

namespace Hearth.Gateway.Caching;

/// <summary>
/// One bounded cache of this gateway: each entry valid until the time it was given (never past
/// what the grain behind it holds), checked against the gateway's clock at every read. Serves
/// nothing while <see cref="GatewayCaches.Live"/> is false. A value read from a grain is stored
/// only if no change was announced while it was being read (<see cref="GatewayCaches.Generation"/>).
/// </summary>
internal sealed class LocalCache<T>(GatewayCaches owner, int capacity, TimeProvider time) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = capacity });

    public bool TryGet(string key, out T value)
    {
        if (owner.Live && _cache.TryGetValue(key, out Entry? entry) && entry!.Until > time.GetUtcNow())
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Stores <paramref name="value"/> until <paramref name="until"/>, unless a change was announced since <paramref name="generation"/> was read.</summary>
    public void Set(string key, T value, DateTimeOffset? until, long generation)
    {
        if (until is not { } end || end <= time.GetUtcNow() || !owner.Live || owner.Generation != generation)
        {
            return;
        }

        _cache.Set(key, new Entry(value, end), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = end });
        if (owner.Generation != generation)
        {
            // A change was announced while storing: it may have removed the key before it was here.
            _cache.Remove(key);
        }
    }

    /// <summary><see cref="GatewayCaches.Generation"/>: read it before asking the grain.</summary>
    public long Generation => owner.Generation;

    public void Remove(string key) => _cache.Remove(key);

    public void Clear() => _cache.Clear();

    public int Count => _cache.Count;

    public void Dispose() => _cache.Dispose();

    private sealed record Entry(T Value, DateTimeOffset Until);
}
