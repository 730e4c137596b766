using System.Collections.Concurrent;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// This gateway's copy of the cluster's revocation list: locally validated tokens an operator
/// evicted, refused until their exp. An eviction applies here at once and everywhere within
/// <see cref="RevocationSync.Period"/>.
/// </summary>
internal sealed class Revocations(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public bool IsRevoked(string tokenHash) => _until.TryGetValue(tokenHash, out var until) && until > time.GetUtcNow();

    public void Add(Revocation revocation)
        => _until.AddOrUpdate(revocation.TokenHash, revocation.Until, (_, until) => until > revocation.Until ? until : revocation.Until);

    public IReadOnlyList<Revocation> Known()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _until.Where(e => e.Value <= now).Select(e => e.Key).ToList())
        {
            _until.TryRemove(expired, out _);
        }

        return _until.Select(e => new Revocation(e.Key, e.Value)).ToList();
    }
}

/// <summary>Syncs <see cref="Revocations"/> with the cluster's <see cref="IRevocationGrain"/> every <see cref="Period"/>.</summary>
internal sealed partial class RevocationSync(Revocations revocations, IGrainFactory grains, ILogger<RevocationSync> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Sends what this gateway knows and takes what the cluster knows.</summary>
    public async Task SyncAsync()
    {
        foreach (var revocation in await grains.GetGrain<IRevocationGrain>(0).SyncAsync(revocations.Known()))
        {
            revocations.Add(revocation);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogSyncFailed(logger, e.GetType().Name); // the cluster is away: the next tick tries again
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Syncing the revocation list failed: {ExceptionType}")]
    private static partial void LogSyncFailed(ILogger logger, string exceptionType);
}
