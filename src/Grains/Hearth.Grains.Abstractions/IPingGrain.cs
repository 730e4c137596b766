namespace Hearth.Grains.Abstractions;

/// <summary>Answers when a silo is reachable; used by /readyz.</summary>
[Alias("Hearth.IPingGrain")]
public interface IPingGrain : IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task<string> PingAsync();
}
