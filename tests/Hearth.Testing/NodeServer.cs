using System.Diagnostics;
using System.Text.Json;

namespace Hearth.Testing;

/// <summary>
/// A Node server from deploy/ (the FHIR server or the development authorization server) started on
/// a free loopback port; its first stdout line names its base URL. Stopped by pid on dispose.
/// </summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly Process _process;

    private NodeServer(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public int ProcessId => _process.Id;

    public static async Task<NodeServer> StartAsync(string script, IDictionary<string, string>? environment = null)
    {
        var path = Path.Combine(RepositoryPaths.Root, script);
        var package = Path.GetDirectoryName(path)!;
        var modules = Path.Combine(package, "node_modules");
        if (File.Exists(Path.Combine(package, "package.json")) && !Directory.Exists(modules))
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Root, package);
            throw new InvalidOperationException($"{modules} is missing: run `npm ci --prefix {relative}` (the README's test command does).");
        }

        var info = new ProcessStartInfo("node", [path, "--port", "0", "--host", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            var error = await process.StandardError.ReadToEndAsync();
            process.Dispose();
            throw new TimeoutException($"{script} did not say where it listens within 120 s. Its error output: {error}");
        }

        if (line is null)
        {
            var error = await process.StandardError.ReadToEndAsync();
            throw new InvalidOperationException($"{script} exited: {error}");
        }

        process.BeginErrorReadLine();
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        var url = JsonDocument.Parse(line).RootElement.GetProperty("listening").GetString()!;
        return new NodeServer(process, url);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
