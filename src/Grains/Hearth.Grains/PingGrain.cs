namespace Hearth.Grains;

internal sealed class PingGrain : Grain, IPingGrain
{
    public Task<string> PingAsync() => Task.FromResult(RuntimeIdentity);
}
