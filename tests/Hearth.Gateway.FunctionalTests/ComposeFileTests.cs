using System.Diagnostics;
using System.Text.RegularExpressions;
using Hearth.Testing;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// docker-compose.yml and the Dockerfiles, checked without a Docker engine: the compose file is
/// valid for Debian's docker-compose (installed by run-tests.sh), every image is pinned to a
/// version, and every published port listens on 127.0.0.1 only.
/// </summary>
public partial class ComposeFileTests
{
    private static string Compose => Path.Combine(RepositoryPaths.Root, "docker-compose.yml");

    [Fact]
    public async Task ComposeFile_ValidForDockerCompose()
    {
        var info = new ProcessStartInfo("docker-compose", ["-f", Compose, "config", "-q"]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(process.ExitCode == 0, "docker-compose config: " + await errors);
    }

    [Fact]
    public void EveryImage_PinnedToAVersion()
    {
        var images = File.ReadAllLines(Compose).Select(l => ComposeImage().Match(l)).Where(m => m.Success).Select(m => m.Groups["image"].Value)
            .Concat(Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "deploy"), "Dockerfile.*")
                .SelectMany(File.ReadAllLines).Select(l => DockerfileFrom().Match(l)).Where(m => m.Success).Select(m => m.Groups["image"].Value))
            .ToList();
        Assert.True(images.Count >= 10, $"only {images.Count} images found");
        var unpinned = images.Where(i => !i.StartsWith("hearth-", StringComparison.Ordinal) && !PinnedTag().IsMatch(i)).ToList();
        Assert.True(unpinned.Count == 0, "not pinned to a major.minor.patch version: " + string.Join(", ", unpinned));
    }

    [Fact]
    public void PublishedPorts_LoopbackOnly()
    {
        var published = File.ReadAllLines(Compose).Where(l => l.TrimStart().StartsWith("ports:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(published);
        Assert.All(published, l => Assert.Matches(@"^\s*ports: \[(""127\.0\.0\.1:\d+:\d+""(, )?)+\]$", l));
    }

    [GeneratedRegex(@"^\s*image:\s*(?<image>\S+)\s*$")]
    private static partial Regex ComposeImage();

    [GeneratedRegex(@"^FROM\s+(?<image>\S+)")]
    private static partial Regex DockerfileFrom();

    [GeneratedRegex(@":v?\d+\.\d+\.\d+(-[\w.]+)?$")]
    private static partial Regex PinnedTag();
}
