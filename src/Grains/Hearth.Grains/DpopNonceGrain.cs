using System.Security.Cryptography;
using Hearth.Grains.Abstractions;

namespace Hearth.Grains;

/// <summary>Holds the nonce key (<see cref="IDpopNonceGrain"/>) for as long as it is active.</summary>
internal sealed class DpopNonceGrain : Grain, IDpopNonceGrain
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public Task<byte[]> KeyAsync() => Task.FromResult(_key.ToArray());
}
