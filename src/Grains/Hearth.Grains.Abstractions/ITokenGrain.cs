namespace Hearth.Grains.Abstractions;

/// <summary>
/// Caches one token's introspection result until the token expires. Key: the lowercase hex
/// SHA-256 of the token (see <see cref="TokenKey"/>); the raw token is never a key.
/// </summary>
[Alias("Hearth.ITokenGrain")]
public interface ITokenGrain : IGrainWithStringKey
{
    /// <summary>The cached result, introspecting once when there is none (calls are serialized per token).</summary>
    [Alias("Introspect")]
    Task<TokenInfo> IntrospectAsync(SecretToken token);

    /// <summary>Forgets the cached result.</summary>
    [Alias("Evict")]
    Task EvictAsync();
}
