namespace Hearth.Grains.Abstractions;

/// <summary>
/// One shard of the cluster's DPoP replay cache (RFC 9449 §11.1): each proof's <c>jti</c>, for its
/// key, is accepted once while the proof could still be accepted at all. Keyed by shard number
/// (<see cref="Shards"/>, chosen from the entry's hash); entries live in the silo's memory, bounded.
/// A shard that has not held a proof since its activation (a silo restarted, the shard moved)
/// cannot tell whether an earlier proof was seen: it refuses proofs made before it started, so a
/// restart never reopens the window.
/// </summary>
[Alias("Hearth.IDpopReplayGrain")]
public interface IDpopReplayGrain : IGrainWithIntegerKey
{
    /// <summary>How many shards the entries are spread over.</summary>
    public const int Shards = 32;

    /// <summary>
    /// Records the proof <paramref name="entry"/> (a SHA-256 of its key's thumbprint and its
    /// <c>jti</c>, never the proof), made at <paramref name="issuedAt"/>, to be remembered until
    /// <paramref name="until"/>.
    /// </summary>
    [Alias("Use")]
    Task<DpopUse> UseAsync(DpopEntry entry, DateTimeOffset issuedAt, DateTimeOffset until);
}

/// <summary>The 16 leading bytes of a SHA-256, as two numbers: compact, and never the proof itself.</summary>
[GenerateSerializer, Immutable, Alias("Hearth.DpopEntry")]
public readonly record struct DpopEntry([property: Id(0)] ulong High, [property: Id(1)] ulong Low)
{
    /// <summary>The shard of this entry.</summary>
    public int Shard => (int)(Low % IDpopReplayGrain.Shards);
}

[GenerateSerializer]
[Alias("Hearth.DpopUse")]
public enum DpopUse
{
    /// <summary>First use: accepted, and remembered.</summary>
    Accepted = 0,

    /// <summary>Seen before within the window: a replay.</summary>
    Replayed = 1,

    /// <summary>Made before this shard started: it cannot be told fresh; the client makes a new proof.</summary>
    BeforeStart = 2,

    /// <summary>The shard holds as many live entries as it may: refused (fail closed), not forgotten.</summary>
    Full = 3,
}
