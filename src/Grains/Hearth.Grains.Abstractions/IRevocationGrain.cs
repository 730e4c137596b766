namespace Hearth.Grains.Abstractions;

/// <summary>
/// The cluster's list of access tokens refused before their exp (admin eviction of locally
/// validated JWTs), by token hash. Gateways keep a copy and sync it every few seconds, sending
/// what they know: the list survives the loss of the silo that held it while any gateway lives.
/// </summary>
[Alias("Hearth.IRevocationGrain")]
public interface IRevocationGrain : IGrainWithIntegerKey
{
    /// <summary>Merges <paramref name="known"/> into the list and returns the whole list (entries past their end dropped).</summary>
    [Alias("Sync")]
    Task<IReadOnlyList<Revocation>> SyncAsync(IReadOnlyList<Revocation> known);
}

/// <summary>A token (by its SHA-256, never itself) refused until <paramref name="Until"/> (its exp, when known).</summary>
[GenerateSerializer, Immutable, Alias("Hearth.Revocation")]
public sealed record Revocation([property: Id(0)] string TokenHash, [property: Id(1)] DateTimeOffset Until);
