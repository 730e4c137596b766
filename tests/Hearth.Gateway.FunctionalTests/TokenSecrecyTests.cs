using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Hearth.Grains.Abstractions;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

[Collection(HearthCollection.Name)]
public class TokenSecrecyTests(HearthEnvironment env)
{
    [Fact]
    public async Task Logs_AtDebugLevel_NeverContainARawToken()
    {
        // Every category at Debug, libraries too (appsettings.json keeps them at Warning by default): no log line of any of them may hold a token.
        (string, string?)[] debug = [("Logging:LogLevel:Default", "Debug"), .. new[] { "Polly", "Orleans", "Microsoft.Orleans", "Yarp", "System.Net.Http.HttpClient", "Microsoft.AspNetCore", "Microsoft.Extensions.Http.Resilience" }
            .Select(c => ($"Logging:LogLevel:{c}", (string?)"Debug"))];
        await using var gateway = await env.StartGatewayAsync(debug);
        var valid = await env.TokenAsync("[" + Permission("10001", labels: Labels("N")) + "]");
        const string unknown = "UnknownTokenValue-0123456789abcdef";
        foreach (var (path, token) in new[] { ("Patient/p01", valid), ("Observation?subject=Patient/p01", valid), ("Patient/p02", valid), ("Patient/p01", unknown), ("Patient/..%2F", valid) })
        {
            using var response = await gateway.Client.GetWithTokenAsync(path, token);
            Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        await using (var unreachable = await env.StartGatewayAsync([.. debug, ("UMA_SERVER_BASE", $"http://127.0.0.1:{GatewayInstance.FreePort()}")]))
        {
            using var response = await unreachable.Client.GetWithTokenAsync("Patient/p01", valid);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.DoesNotContain(unreachable.Logs.Lines, line => line.Contains(valid, StringComparison.Ordinal));
            Assert.Contains(unreachable.Logs.Lines, line => line.Contains(TokenKey.ForLog(TokenKey.Hash(valid)), StringComparison.Ordinal));
        }

        Assert.True(gateway.Logs.Lines.Count > 20, "Debug logging should have produced lines");
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains(valid, StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains(unknown, StringComparison.Ordinal));
        Assert.Contains(gateway.Logs.Lines, line => line.Contains(TokenKey.ForLog(TokenKey.Hash(unknown)), StringComparison.Ordinal));
    }

    [Fact]
    public void SecretToken_ToString_Redacted()
        => Assert.DoesNotContain("abc123", new SecretToken("abc123").ToString(), StringComparison.Ordinal);
}
