using System.Globalization;
using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Hearth's metrics in Prometheus text on the management port (HEARTH_METRICS_PORT), scraped over
/// HTTP from a real gateway after a known sequence of requests: each decision counted once, with
/// bounded attributes; the FHIR port never serves them; the management port serves nothing else.
/// </summary>
[Collection(HearthCollection.Name)]
public class MetricsTests(HearthEnvironment env)
{
    private static readonly HttpClient Scraper = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Decisions_CountedOnceEach_ScrapedFromTheManagementPort()
    {
        var (gateway, port) = await env.StartGatewayWithMetricsAsync();
        await using var _ = gateway;
        var metrics = $"http://127.0.0.1:{port}/metrics";
        var before = await ScrapeAsync(metrics);

        var labelN = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using (var permitted = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", labelN))
        {
            Assert.Equal(HttpStatusCode.OK, permitted.StatusCode);
        }

        using (var again = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", labelN))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        int removed;
        using (var redacted = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", labelN))
        {
            Assert.Equal(HttpStatusCode.OK, redacted.StatusCode);
            var kept = (await redacted.JsonAsync()).EntryIds().Count;
            var (_, direct) = await env.Fhir.GetAsync("Observation?subject=Patient/p03"); // what the FHIR server answers to the same search
            removed = direct!.EntryIds().Count - kept;
            Assert.True(removed > 0);
        }

        using (var denied = await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", labelN))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        using (var anonymous = await gateway.Client.GetAsync("Observation/obs-03-1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var fhirPort = await gateway.Client.GetAsync("metrics"))
        {
            // On the FHIR port "metrics" is no FHIR path: refused like any other, never the metrics.
            Assert.Equal(HttpStatusCode.BadRequest, fhirPort.StatusCode);
            Assert.DoesNotContain("hearth_decisions", await fhirPort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var after = await ScrapeAsync(metrics);
        double Delta(string name, params string[] labels) => Sum(after, name, labels) - Sum(before, name, labels);

        Assert.Equal(2, Delta("hearth_decisions_total", "interaction=\"read\"", "decision=\"permit\""));
        Assert.Equal(1, Delta("hearth_decisions_total", "interaction=\"search-type\"", "decision=\"redact\""));
        Assert.Equal(1, Delta("hearth_decisions_total", "interaction=\"read\"", "decision=\"deny\""));
        Assert.Equal(1, Delta("hearth_decisions_total", "interaction=\"read\"", "decision=\"unauthenticated\""));
        Assert.Equal(1, Delta("hearth_decisions_total", "interaction=\"unknown\"", "decision=\"invalid\""));
        Assert.Equal(6, Delta("hearth_decisions_total"));
        Assert.Equal(removed, Delta("hearth_entries_removed_total"));
        Assert.Equal(6, Delta("hearth_request_duration_seconds_count"));
        Assert.Equal(4, Delta("hearth_upstream_duration_seconds_count")); // the four forwarded (not the refused before forwarding)

        // The token: asked once, then from the gateway's cache; p03 likewise.
        Assert.Equal(1, Delta("hearth_token_cache_total", "result=\"miss\""));
        Assert.Equal(3, Delta("hearth_token_cache_total", "result=\"hit\""));
        Assert.True(Delta("hearth_patient_cache_total", "result=\"hit\"") >= 2);

        // Attribute values are bounded: no id, no path, no token.
        var text = after.Text;
        Assert.DoesNotContain(labelN, text, StringComparison.Ordinal);
        Assert.DoesNotContain("obs-03-1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("p03", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManagementPort_ServesMetricsOnly()
    {
        var (gateway, port) = await env.StartGatewayWithMetricsAsync();
        await using var _ = gateway;
        var token = await env.TokenAsync("[" + Permission("*", "*") + "]");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/Observation/obs-03-1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var before = await env.FhirTotalCountAsync();
        using var response = await Scraper.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // never a FHIR request, never forwarded
        Assert.Equal(before, await env.FhirTotalCountAsync());
        using var health = await Scraper.GetAsync($"http://127.0.0.1:{port}/healthz");
        Assert.Equal(HttpStatusCode.NotFound, health.StatusCode);
    }

    /// <summary>Cluster mode (a real Redis and silo process): the gateway and the silo each serve their own metrics.</summary>
    [Fact]
    public async Task ClusterMode_GatewayAndSilo_EachServeTheirMetrics()
    {
        var (redis, redisPort) = await RedisServer.StartAsync();
        await using var _ = redis;
        var siloMetrics = TestPorts.Free();
        var (cluster, silo) = await env.StartClusterSiloAsync(redisPort, [], ("HEARTH_METRICS_PORT", siloMetrics.ToString(CultureInfo.InvariantCulture)));
        await using var ___ = silo;
        var (gateway, gatewayMetrics) = await env.StartGatewayWithMetricsAsync(cluster);
        await using var __ = gateway;
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        var status = await ReadOnceClusterAnswersAsync(gateway, "Observation/obs-03-1", token);
        Assert.Equal(HttpStatusCode.OK, status);
        var fromGateway = await ScrapeAsync($"http://127.0.0.1:{gatewayMetrics}/metrics");
        Assert.Equal(1, Sum(fromGateway, "hearth_decisions_total", "decision=\"permit\""));

        // The token's introspection and the patient's read happened in the silo: counted there.
        var fromSilo = await ScrapeAsync($"http://127.0.0.1:{siloMetrics}/metrics");
        Assert.Equal(1, Sum(fromSilo, "hearth_introspections_total", "result=\"active\""));
        Assert.Equal(1, Sum(fromSilo, "hearth_introspection_duration_seconds_count"));
        Assert.Equal(1, Sum(fromSilo, "hearth_patient_fetches_total", "result=\"found\""));
        Assert.Contains("orleans_catalog_activations", fromSilo.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(token, fromSilo.Text + fromGateway.Text, StringComparison.Ordinal);
        using var other = await Scraper.GetAsync($"http://127.0.0.1:{siloMetrics}/healthz");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task WithoutAMetricsPort_NoneIsServed()
    {
        using var response = await env.Gateway.Client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<Scrape> ScrapeAsync(string url)
    {
        using var response = await Scraper.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of a metric's samples whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Sum(Scrape scrape, string name, params string[] labels)
    {
        double sum = 0;
        foreach (var line in scrape.Text.Split('\n'))
        {
            if (line.StartsWith('#') || !(line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
            {
                continue;
            }

            var labelEnd = line.IndexOf('}', StringComparison.Ordinal);
            var labelText = labelEnd < 0 ? "" : line[(name.Length + 1)..labelEnd];
            if (labels.All(l => labelText.Split(',').Contains(l)))
            {
                var value = line[((labelEnd < 0 ? name.Length : labelEnd + 1) + 1)..].Split(' ')[0];
                sum += double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    private sealed record Scrape(string Text);
}
