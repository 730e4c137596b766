namespace Hearth.Testing;

/// <summary>A real Redis server (redis-server from apt) on a free loopback port, memory only.</summary>
public static class RedisServer
{
    public static async Task<(ChildProcess Process, int Port)> StartAsync(int? port = null)
    {
        var chosen = port ?? TestPorts.Free();
        var path = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is missing: install it (apt-get install -y redis-server); .ci/run does.");
        var process = ChildProcess.Start("redis", path,
            ["--port", chosen.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            new Dictionary<string, string?>());
        await process.WaitForLineAsync(l => l.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        return (process, chosen);
    }
}
