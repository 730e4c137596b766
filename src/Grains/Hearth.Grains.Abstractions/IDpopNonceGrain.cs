namespace Hearth.Grains.Abstractions;

/// <summary>
/// The secret behind the cluster's DPoP nonces (RFC 9449 §9; HEARTH_DPOP_NONCE): one activation
/// (key 0), a random key made when it activates. Every gateway derives the same nonces from it, so
/// a nonce one gateway issued is taken by every other. A new activation makes a new key: nonces
/// issued before are refused with a new one (<c>use_dpop_nonce</c>), and clients retry.
/// </summary>
[Alias("Hearth.IDpopNonceGrain")]
public interface IDpopNonceGrain : IGrainWithIntegerKey
{
    [Alias("Key")]
    Task<byte[]> KeyAsync();
}
