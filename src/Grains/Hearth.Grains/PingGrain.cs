using Hearth.Grains.Abstractions;

namespace Hearth.Grains;

[Orleans.Placement.RandomPlacement]
internal sealed class PingGrain : Grain, IPingGrain
{
    public Task<string> PingAsync() => Task.FromResult(RuntimeIdentity);
}
