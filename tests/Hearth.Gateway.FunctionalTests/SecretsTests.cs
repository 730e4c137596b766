using System.Diagnostics;
using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using OpenTelemetry.Trace;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// No token, protection key or admin key in anything a gateway writes: every audit record, every
/// log line of every category, every metric scraped, every span's name and attributes, after
/// requests that carry all three (a bearer token, a query token, a refused one, an eviction by
/// the admin key) and the introspections that send the protection key.
/// </summary>
[Collection(HearthCollection.Name)]
public class SecretsTests(HearthEnvironment env)
{
    private const string AdminKey = "admin-key-that-must-never-be-written";

    [Fact]
    public async Task NoSecret_InAuditLogsMetricsOrSpans()
    {
        var auditFile = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        var spans = new List<Activity>();
        try
        {
            var (gateway, metricsPort) = await env.StartGatewayWithMetricsAsync(services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)),
                ("HEARTH_ADMIN_KEY", AdminKey), ("HEARTH_ALLOW_QUERY_TOKENS", "true"), ("HEARTH_AUDIT_LOG_FILE", auditFile),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"), ("Logging:LogLevel:Default", "Trace"));
            await using var _ = gateway;

            var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose();
            (await gateway.Client.GetAsync("Observation?subject=Patient/p03&access_token=" + token)).Dispose();
            (await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", token)).Dispose();
            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token + "x")).Dispose(); // not a token the server issued
            using (var evict = new HttpRequestMessage(HttpMethod.Post, "_hearth/admin/tokens/evict")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
            })
            {
                evict.Headers.Authorization = new("Bearer", AdminKey);
                using var evicted = await gateway.Client.SendAsync(evict);
                Assert.Equal(HttpStatusCode.NoContent, evicted.StatusCode);
            }

            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose(); // introspected again: the protection key goes out again

            using var scraper = new HttpClient();
            var written = new Dictionary<string, string>
            {
                ["metrics"] = await scraper.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"),
                ["logs"] = string.Join('\n', gateway.Logs.Lines),
            };
            await Task.Delay(500); // the audit writer and the last spans
            written["audit"] = await File.ReadAllTextAsync(auditFile);
            written["spans"] = string.Join('\n', spans.SelectMany(s => s.TagObjects.Select(t => $"{s.DisplayName} {t.Key}={t.Value}")));
            Assert.Contains(spans, s => s.OperationName == "hearth.decision");
            Assert.Contains("\"decision\":\"permit\"", written["audit"], StringComparison.Ordinal); // they were written at all
            Assert.NotEmpty(gateway.Logs.Lines);

            foreach (var (where, text) in written)
            {
                foreach (var (name, secret) in new[] { ("the token", token), ("the admin key", AdminKey), ("the protection key", ApiKey) })
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{name} is in the {where}");
                }
            }
        }
        finally
        {
            File.Delete(auditFile);
        }
    }
}
