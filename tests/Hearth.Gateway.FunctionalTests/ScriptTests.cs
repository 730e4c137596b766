using System.Diagnostics;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Hearth.Testing;
using Xunit.Abstractions;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The scripts a newcomer runs first, run as they would run them (tests/scripts/*.sh): the demo
/// from a fresh clone (ready line, every printed example answering as printed, OAuth and UMA,
/// stopped with nothing left), and the local cluster's stop (under 15 s, in order). In the
/// functional collection: they start servers of their own and must not compete with other tests.
/// </summary>
[Collection(HearthCollection.Name)]
public class ScriptTests(ITestOutputHelper output)
{
    [Fact]
    public Task Demo_FreshClone_ExamplesAnswerAsPrinted_StopsClean() => RunAsync("check-demo.sh", TimeSpan.FromMinutes(8));

    [Fact]
    public Task ClusterScript_StopsInOrder_Under15Seconds() => RunAsync("check-cluster-stop.sh", TimeSpan.FromMinutes(5));

    private async Task RunAsync(string script, TimeSpan limit)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root, "tests", "scripts", script)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"{script} failed:\n{text}");
    }
}
