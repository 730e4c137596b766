namespace Hearth.Grains.Abstractions;

/// <summary>
/// Tells every gateway at once what it must forget from its local caches (a token evicted, a
/// Patient or a security context written). One activation (key 0). Gateways subscribe and
/// resubscribe every few seconds; <see cref="PublishAsync"/> returns when every subscribed gateway
/// has applied the event (or was dropped for not answering: a dropped gateway learns it at its next
/// subscription and empties its caches).
/// </summary>
[Alias("Hearth.ICacheEventsGrain")]
public interface ICacheEventsGrain : IGrainWithIntegerKey
{
    /// <summary>Subscribes (or renews) <paramref name="observer"/>. False when it was not subscribed: it may have missed events.</summary>
    [Alias("Subscribe")]
    Task<bool> SubscribeAsync(ICacheObserver observer);

    /// <summary>Sends <paramref name="change"/> to every subscribed gateway and waits for them (bounded).</summary>
    [Alias("Publish")]
    Task PublishAsync(CacheChange change);
}

/// <summary>A gateway's local caches, told what to forget.</summary>
[Alias("Hearth.ICacheObserver")]
public interface ICacheObserver : IGrainObserver
{
    [Alias("Changed")]
    Task ChangedAsync(CacheChange change);
}

[GenerateSerializer]
[Alias("Hearth.CacheChangeKind")]
public enum CacheChangeKind
{
    /// <summary>A token (by hash) was evicted; with <see cref="CacheChange.RevokedUntil"/>, it is refused until then.</summary>
    TokenEvicted = 0,

    /// <summary>A Patient (absolute reference, the PatientGrain's key) changed.</summary>
    PatientChanged = 1,

    /// <summary>A security context resource (absolute reference, the SecurityContextGrain's key) changed.</summary>
    SecurityContextChanged = 2,

    /// <summary>The JWT issuer's signing keys must be fetched again (an admin refresh): every gateway forgets them and the JWTs it validated with them. <see cref="CacheChange.Key"/> is unused.</summary>
    SigningKeysReset = 3,

    /// <summary>A patient's Consents changed (absolute Patient reference, the ConsentGrain's key).</summary>
    ConsentsChanged = 4,
}

/// <summary>What a gateway must forget. <paramref name="Key"/> is a token hash or an absolute reference, never a token.</summary>
[GenerateSerializer, Immutable, Alias("Hearth.CacheChange")]
public sealed record CacheChange(
    [property: Id(0)] CacheChangeKind Kind,
    [property: Id(1)] string Key,
    [property: Id(2)] DateTimeOffset? RevokedUntil = null);
