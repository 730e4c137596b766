using System.Diagnostics;
using System.Net;
using Hearth.Authorization.Configuration;
using Hearth.Gateway.Extensions;
using Hearth.Gateway.FunctionalTests.Infrastructure;

namespace Hearth.Gateway.FunctionalTests;

[Collection(HearthCollection.Name)]
public class HealthAndConfigurationTests(HearthEnvironment env)
{
    [Theory]
    [InlineData("healthz", "alive")]
    [InlineData("readyz", "ready")]
    public async Task Health_200(string path, string status)
    {
        using var response = await env.Gateway.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(status, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_BadConfiguration_OneErrorNamingEverySetting()
    {
        var e = Assert.Throws<HearthConfigurationException>(() => HearthGatewayApp.Build([], new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = "not a url",
            ["UMA_SERVER_BASE"] = "",
            ["UMA_MODE"] = "sometimes",
        }));
        Assert.Contains("FHIR_SERVER_BASE", e.Message, StringComparison.Ordinal);
        Assert.Contains("UMA_SERVER_BASE", e.Message, StringComparison.Ordinal);
        Assert.Contains("UMA_SERVER_PROTECTION_API_KEY", e.Message, StringComparison.Ordinal);
        Assert.Contains("UMA_MODE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewayProcess_BadConfiguration_ExitsWithMessage()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Hearth.Gateway.dll");
        var info = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.Environment["FHIR_SERVER_BASE"] = "ftp://nope";
        info.Environment["UMA_SERVER_BASE"] = "";
        info.Environment["UMA_SERVER_PROTECTION_API_KEY"] = "";
        info.Environment["PORT"] = "70000";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, process.ExitCode);
        var message = await stderr;
        foreach (var name in new[] { "FHIR_SERVER_BASE", "UMA_SERVER_BASE", "UMA_SERVER_PROTECTION_API_KEY", "PORT" })
        {
            Assert.Contains(name, message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewayProcess_PortSetting_Honoured()
    {
        var port = GatewayInstance.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "Hearth.Gateway.dll");
        var info = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (key, value) in env.Settings())
        {
            info.Environment[key] = value;
        }

        info.Environment["PORT"] = port.ToString();
        info.Environment["HEARTH_SILO_PORT"] = GatewayInstance.FreePort().ToString();
        info.Environment["HEARTH_SILO_GATEWAY_PORT"] = GatewayInstance.FreePort().ToString();
        info.Environment.Remove("ASPNETCORE_URLS");
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            HttpStatusCode? status = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var response = await client.GetAsync($"http://127.0.0.1:{port}/readyz");
                    status = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }

            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Another process listens on the silo port, with address reuse as every .NET listener on Linux
    /// has (SO_REUSEPORT): the gateway stops at start naming the setting, instead of sharing it.
    /// </summary>
    [Fact]
    public async Task GatewayProcess_SiloPortTaken_ExitsNamingTheSetting()
    {
        using var held = TestPorts.Hold(IPAddress.Loopback);
        var taken = held.Port;
        var (exitCode, stderr) = await RunGatewayUntilExitAsync(("HEARTH_SILO_PORT", taken.ToString()), ("HEARTH_SILO_GATEWAY_PORT", GatewayInstance.FreePort().ToString()));
        Assert.Equal(2, exitCode);
        Assert.Contains($"HEARTH_SILO_PORT: port {taken} on 127.0.0.1 is already in use", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    /// <summary>Two embedded gateways on one machine, neither given silo ports: each picks free ones and serves.</summary>
    [Fact]
    public async Task TwoEmbeddedGateways_NoSiloPortsSet_BothServe()
    {
        var unset = new (string, string?)[] { ("HEARTH_SILO_PORT", null), ("HEARTH_SILO_GATEWAY_PORT", null) };
        await using var first = await env.StartGatewayAsync(unset);
        await using var second = await env.StartGatewayAsync(unset);
        var ports = new[] { first, second }.Select(g => g.Services.GetRequiredService<HearthSettings>().Cluster)
            .SelectMany(c => new[] { c.SiloPort, c.SiloGatewayPort }).ToList();
        Assert.Equal(4, ports.Distinct().Count());
        Assert.DoesNotContain(11111, ports);
        Assert.DoesNotContain(30000, ports);
        var token = await env.TokenAsync("[" + HearthEnvironment.Permission("10001") + "]");
        foreach (var gateway in new[] { first, second })
        {
            using var read = await gateway.Client.GetWithTokenAsync("Patient/p01", token);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
    }

    private async Task<(int ExitCode, string Stderr)> RunGatewayUntilExitAsync(params (string Key, string Value)[] changes)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Hearth.Gateway.dll");
        var info = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (key, value) in env.Settings())
        {
            info.Environment[key] = value;
        }

        foreach (var (key, value) in changes)
        {
            info.Environment[key] = value;
        }

        info.Environment["PORT"] = GatewayInstance.FreePort().ToString();
        info.Environment.Remove("ASPNETCORE_URLS");
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stderr);
    }
}
