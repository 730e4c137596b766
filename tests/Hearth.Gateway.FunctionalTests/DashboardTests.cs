using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The Grafana dashboard (deploy/grafana/dashboards/hearth.json) against Hearth's real metrics: a
/// real Prometheus (Debian's package) scrapes a gateway under a known mix of requests and
/// evaluates every query of every panel without error, and every panel returns data.
/// </summary>
[Collection(HearthCollection.Name)]
public class DashboardTests(HearthEnvironment env)
{
    [Fact]
    public async Task EveryDashboardQuery_EvaluatesAgainstARealPrometheus_EveryPanelHasData()
    {
        var (gateway, metricsPort) = await env.StartGatewayWithMetricsAsync(); // embedded: the gateway is its own silo too
        await using var _ = gateway;
        var directory = Directory.CreateTempSubdirectory("hearth-prometheus-");
        var prometheusPort = TestPorts.Free();
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "prometheus.yml"),
            $"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: hearth-gateway\n    static_configs:\n      - targets: ['127.0.0.1:{metricsPort}']\n");
        await using var prometheus = ChildProcess.Start("prometheus", "prometheus",
            [$"--config.file={Path.Combine(directory.FullName, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory.FullName, "data")}",
             $"--web.listen-address=127.0.0.1:{prometheusPort}"], new Dictionary<string, string?>());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            await WaitForScrapesAsync(http, 1); // traffic after the first scrape: every rate has a before and an after
            for (var round = 0; round < 4; round++)
            {
                token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]"); // a new token each round: introspections over time too
                (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose();
                (await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", token)).Dispose();
                (await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", token)).Dispose();
                (await gateway.Client.GetAsync("Observation/obs-03-1")).Dispose();
                await Task.Delay(1000);
            }

            await WaitForScrapesAsync(http, 6);
            var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy/grafana/dashboards/hearth.json")))!.AsObject();
            foreach (var panel in dashboard["panels"]!.AsArray())
            {
                var title = panel!["title"]!.GetValue<string>();
                var results = 0;
                foreach (var target in panel["targets"]!.AsArray())
                {
                    var (status, result) = await QueryAsync(http, target!["expr"]!.GetValue<string>());
                    Assert.True(status == "success", $"panel '{title}': {target["expr"]} → {status}");
                    results += result.Count(r => r!["value"]![1]!.GetValue<string>() is not ("NaN" or "+Inf" or "-Inf"));
                }

                Assert.True(results > 0, $"panel '{title}' returned no data");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Waits until Prometheus has scraped the gateway <paramref name="count"/> times.</summary>
    private static async Task WaitForScrapesAsync(HttpClient http, int count)
    {
        for (var attempt = 0; attempt < 60; attempt++)
        {
            try
            {
                var (status, result) = await QueryAsync(http, "count_over_time(up{job=\"hearth-gateway\"}[5m])");
                if (status == "success" && result.Any(r => double.Parse(r!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture) >= count))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"Prometheus did not scrape the gateway {count} times within 30 s");
    }

    private static async Task<(string Status, JsonArray Result)> QueryAsync(HttpClient http, string expr)
    {
        using var response = await http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(expr));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        return (body["status"]!.GetValue<string>(), body["data"]?["result"] as JsonArray ?? []);
    }
}
