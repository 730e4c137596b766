using Hearth.Grains.Abstractions;

namespace Hearth.Grains;

/// <summary>The cluster's revocation list (one activation, key 0), held in memory; the gateways' copies restore it after a silo failure.</summary>
internal sealed class RevocationGrain(TimeProvider time) : Grain, IRevocationGrain
{
    /// <summary>The list is bounded: revocations are an operator's act, not a client's.</summary>
    public const int MaxEntries = 100_000;

    private readonly Dictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<Revocation>> SyncAsync(IReadOnlyList<Revocation> known)
    {
        var now = time.GetUtcNow();
        foreach (var revocation in known)
        {
            if (revocation.Until > now && (_until.Count < MaxEntries || _until.ContainsKey(revocation.TokenHash)))
            {
                _until[revocation.TokenHash] = _until.TryGetValue(revocation.TokenHash, out var until) && until > revocation.Until ? until : revocation.Until;
            }
        }

        foreach (var expired in _until.Where(e => e.Value <= now).Select(e => e.Key).ToList())
        {
            _until.Remove(expired);
        }

        return Task.FromResult<IReadOnlyList<Revocation>>(_until.Select(e => new Revocation(e.Key, e.Value)).ToList());
    }
}
