using Hearth.Grains.Abstractions;

namespace Hearth.Grains;

/// <summary>
/// A shard of the DPoP replay cache (<see cref="IDpopReplayGrain"/>): entries in a dictionary with
/// their end, pruned in the order they end; at most <see cref="MaxEntries"/> live ones (about
/// 40 bytes each). The activation stays while it holds a live entry, so idle collection never
/// forgets one.
/// </summary>
internal sealed class DpopReplayGrain(TimeProvider time) : Grain, IDpopReplayGrain
{
    /// <summary>Live entries one shard holds; the cluster, <see cref="IDpopReplayGrain.Shards"/> times as many.</summary>
    public const int MaxEntries = 50_000;

    private readonly Dictionary<DpopEntry, long> _until = [];
    private readonly PriorityQueue<DpopEntry, long> _byEnd = new();
    private DateTimeOffset _started;
    private DateTimeOffset _keptUntil;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A proof's iat counts whole seconds: one made in the second before this activation started
        // (its iat the second's start) is still taken. Replaying one such proof after a restart is
        // the one gap, at most two seconds wide; a whole window would be the alternative.
        var now = time.GetUtcNow();
        _started = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() - 1);
        return Task.CompletedTask;
    }

    public Task<DpopUse> UseAsync(DpopEntry entry, DateTimeOffset issuedAt, DateTimeOffset until)
    {
        var now = time.GetUtcNow();
        if (issuedAt < _started)
        {
            return Task.FromResult(DpopUse.BeforeStart);
        }

        var nowTicks = now.UtcTicks;
        while (_byEnd.TryPeek(out var oldest, out var end) && end <= nowTicks)
        {
            _byEnd.Dequeue();
            if (_until.TryGetValue(oldest, out var kept) && kept == end)
            {
                _until.Remove(oldest);
            }
        }

        if (_until.TryGetValue(entry, out var seen) && seen > nowTicks)
        {
            return Task.FromResult(DpopUse.Replayed);
        }

        if (_until.Count >= MaxEntries)
        {
            return Task.FromResult(DpopUse.Full);
        }

        _until[entry] = until.UtcTicks;
        _byEnd.Enqueue(entry, until.UtcTicks);
        if (until > _keptUntil)
        {
            _keptUntil = until;
            this.DelayDeactivation(until - now);
        }

        return Task.FromResult(DpopUse.Accepted);
    }
}
