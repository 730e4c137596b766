using Hearth.Grains;
using Hearth.Grains.Abstractions;

namespace Hearth.Components.Tests.Grains;

/// <summary>
/// The DPoP replay cache's shards on a real (in-process) Orleans silo, with a clock the tests move:
/// a proof is accepted once until its end; entries end and are pruned; a shard holds at most
/// <see cref="DpopReplayGrain.MaxEntries"/> live entries and then refuses (the gateway answers 503),
/// never forgetting one early; and a shard that was not active when a proof was made (as after a
/// silo restart) refuses it, so a restart never reopens the window.
/// </summary>
public sealed class DpopReplayGrainTests : IClassFixture<GrainCluster>
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(130);
    private static long _nextShard = 1_000;
    private readonly GrainCluster _cluster;

    public DpopReplayGrainTests(GrainCluster cluster)
    {
        _cluster = cluster;
        _cluster.Clock.Offset = TimeSpan.Zero;
    }

    /// <summary>A shard key no other test has used: a fresh activation.</summary>
    private IDpopReplayGrain FreshShard() => _cluster.Grains.GetGrain<IDpopReplayGrain>(Interlocked.Increment(ref _nextShard));

    private static DpopEntry Entry(ulong n) => new(n, n * 31);

    [Fact]
    public async Task Proof_AcceptedOnce_UntilItsEnd_ThenPruned()
    {
        var shard = FreshShard();
        var now = _cluster.Clock.GetUtcNow();
        Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(1), now, now + Window));
        Assert.Equal(DpopUse.Replayed, await shard.UseAsync(Entry(1), now, now + Window));
        Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(2), now, now + Window)); // another jti

        _cluster.Clock.Offset = Window - TimeSpan.FromSeconds(1);
        Assert.Equal(DpopUse.Replayed, await shard.UseAsync(Entry(1), now, now + Window)); // still within its window

        _cluster.Clock.Offset = Window + TimeSpan.FromSeconds(1);
        var later = _cluster.Clock.GetUtcNow();
        Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(1), later, later + Window)); // its end passed: forgotten (the gateway refuses its stale iat first)
    }

    [Fact]
    public async Task FullShard_RefusesNewProofs_ForgetsNoLiveOne_TakesThemAgainOnceEntriesEnd()
    {
        var shard = FreshShard();
        var now = _cluster.Clock.GetUtcNow();
        for (ulong i = 0; i < DpopReplayGrain.MaxEntries; i++)
        {
            Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(i), now, now + Window));
        }

        Assert.Equal(DpopUse.Full, await shard.UseAsync(Entry(DpopReplayGrain.MaxEntries), now, now + Window));
        Assert.Equal(DpopUse.Replayed, await shard.UseAsync(Entry(0), now, now + Window)); // the oldest is still remembered

        _cluster.Clock.Offset = Window + TimeSpan.FromSeconds(1);
        var later = _cluster.Clock.GetUtcNow();
        Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(DpopReplayGrain.MaxEntries), later, later + Window));
    }

    [Fact]
    public async Task ProofMadeBeforeTheShardStarted_Refused_ARestartDoesNotReopenTheWindow()
    {
        var now = _cluster.Clock.GetUtcNow();
        var shard = FreshShard(); // activated by its first call, below: as a shard is after its silo restarted
        Assert.Equal(DpopUse.BeforeStart, await shard.UseAsync(Entry(7), now - TimeSpan.FromSeconds(5), now + Window));

        // Made after it started: accepted (a proof's iat counts whole seconds: the second before the start is taken too).
        var after = _cluster.Clock.GetUtcNow();
        Assert.Equal(DpopUse.Accepted, await shard.UseAsync(Entry(8), after, after + Window));
    }
}
