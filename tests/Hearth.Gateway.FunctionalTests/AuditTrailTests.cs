using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The audit trail's JSON lines (category Hearth.Audit), written by a real gateway to
/// HEARTH_AUDIT_LOG_FILE: exactly one record per request, saying who, what, the decision and why,
/// what was served and removed, never the token; and a sink that does not take them never slows
/// or fails a request: what does not fit the buffer is dropped and counted.
/// </summary>
[Collection(HearthCollection.Name)]
public class AuditTrailTests(HearthEnvironment env)
{
    [Fact]
    public async Task OneRecordPerDecision_WhoWhatWhy_NeverTheToken()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var gateway = await env.StartGatewayAsync(("HEARTH_ALLOW_QUERY_TOKENS", "true"), ("HEARTH_AUDIT_LOG_FILE", file));
            var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            var (_, direct) = await env.Fhir.GetAsync("Observation?subject=Patient/p03");
            var upstreamEntries = direct!.EntryIds().Count;

            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose();
            using (var redacted = await gateway.Client.GetAsync("Observation?subject=Patient/p03&access_token=" + token))
            {
                Assert.Equal(HttpStatusCode.OK, redacted.StatusCode);
            }

            (await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", token)).Dispose();
            (await gateway.Client.GetAsync("Observation/obs-03-1")).Dispose();
            (await gateway.Client.GetAsync("not/a/fhir/path/at/all")).Dispose();

            var records = await RecordsAsync(file, 5);
            Assert.All(records, r => Assert.Equal("Hearth.Audit", S(r, "category")));
            var permit = records[0];
            Assert.Equal(("permit", 200, "read", "Observation", "obs-03-1"), (S(permit, "decision"), I(permit, "status"), S(permit, "interaction"), S(permit, "resourceType"), S(permit, "id")));
            Assert.Equal(1, I(permit, "entriesReturned"));
            Assert.Equal(12, S(permit, "token")!.Length); // the hash prefix every log uses
            Assert.NotNull(S(permit, "traceId"));
            Assert.NotNull(S(permit, "clientAddress"));
            Assert.True(DateTimeOffset.Parse(S(permit, "recorded")!, CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5));

            var redact = records[1];
            Assert.Equal(("redact", "search-type"), (S(redact, "decision"), S(redact, "interaction")));
            Assert.Equal("Patient/p03", redact["parameters"]!["subject"]![0]!.GetValue<string>());
            Assert.Null(redact["parameters"]!["access_token"]); // the token in the query is never written
            Assert.Equal(upstreamEntries, I(redact, "entriesReturned") + I(redact, "entriesRemoved"));
            Assert.True(I(redact, "entriesRemoved") > 0);

            var deny = records[2];
            Assert.Equal(("deny", 403, "obs-04-1"), (S(deny, "decision"), I(deny, "status"), S(deny, "id")));
            Assert.Contains("does not grant", S(deny, "reason"), StringComparison.Ordinal);

            var anonymous = records[3];
            Assert.Equal(("unauthenticated", 401), (S(anonymous, "decision"), I(anonymous, "status")));
            Assert.Null(anonymous["token"]);

            Assert.Equal(("invalid", "unknown"), (S(records[4], "decision"), S(records[4], "interaction")));

            // Neither the audit trail nor any other log line holds the token itself.
            Assert.DoesNotContain(token, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
            Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains(token, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SmartToken_ItsClientSubjectAndLaunchPatientRecorded()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_AUDIT_LOG_FILE", file)));
            var token = await env.Oidc.TokenForAsync("patient/Observation.rs", "p03");
            using (var read = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token))
            {
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            }

            var record = (await RecordsAsync(file, 1))[0];
            Assert.Equal("p03", S(record, "launchPatient"));
            Assert.NotNull(S(record, "clientId"));
            Assert.NotNull(S(record, "subject"));
            Assert.Equal("Patient/p03", record["patients"]![0]!.GetValue<string>());
            Assert.Null(record["realm"]); // not UMA mode
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task PurposeOfUseAndFhirUser_RecordedFromTheToken()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var gateway = await env.StartGatewayAsync(("HEARTH_AUDIT_LOG_FILE", file));
            var stating = await env.Auth.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]",
                claimsJson: "{\"fhirUser\":\"Practitioner/pr-7\",\"client_id\":\"clinic-app\",\"purpose_of_use\":[\"TREAT\"],"
                            + "\"ihe_iua\":{\"purpose_of_use\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"ETREAT\"}]}}");
            var silent = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", stating)).Dispose();
            (await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", stating)).Dispose(); // refused: still recorded with its purpose
            (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", silent)).Dispose();

            var records = await RecordsAsync(file, 3);
            Assert.All(records[..2], r =>
            {
                Assert.Equal(["TREAT", "ETREAT"], r["purposeOfUse"]!.AsArray().Select(p => p!.GetValue<string>()));
                Assert.Equal("Practitioner/pr-7", S(r, "fhirUser"));
                Assert.Equal("clinic-app", S(r, "clientId"));
            });
            Assert.Equal("deny", S(records[1], "decision"));
            Assert.Null(records[2]["purposeOfUse"]);
            Assert.Null(records[2]["fhirUser"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task PurposeOfUseAndFhirUser_OfAJwt_Recorded()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_AUDIT_LOG_FILE", file)));
            var claims = TestKeys.Claims(env.Oidc.Issuer, "patient/Observation.rs", "p03");
            claims["fhirUser"] = "Practitioner/pr-9";
            claims["purpose_of_use"] = "TREAT";
            using (var read = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", TestKeys.Craft(claims)))
            {
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            }

            var record = (await RecordsAsync(file, 1))[0];
            Assert.Equal(["TREAT"], record["purposeOfUse"]!.AsArray().Select(p => p!.GetValue<string>()));
            Assert.Equal("Practitioner/pr-9", S(record, "fhirUser"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A sink that takes nothing (a named pipe nobody reads): requests are served, what does not fit the buffer is dropped and counted, the rest written once it reads.</summary>
    [Fact]
    public async Task SinkThatDoesNotTake_RequestsServed_DropsCounted()
    {
        var fifo = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.fifo");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
        }

        try
        {
            var (gateway, metricsPort) = await env.StartGatewayWithMetricsAsync(("HEARTH_AUDIT_LOG_FILE", fifo), ("HEARTH_AUDIT_BUFFER", "3"));
            await using var _ = gateway;
            var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            for (var i = 0; i < 8; i++)
            {
                using var read = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token);
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            }

            using var scraper = new HttpClient();
            var metrics = await scraper.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.Contains(metrics.Split('\n'), l => l.StartsWith("hearth_audit_dropped_total", StringComparison.Ordinal) && l.EndsWith(" 5", StringComparison.Ordinal));

            // Someone reads at last: the three buffered records come out, whole.
            var read3 = Task.Run(async () =>
            {
                using var reader = new StreamReader(new FileStream(fifo, FileMode.Open, FileAccess.Read));
                var lines = new List<string>();
                while (lines.Count < 3 && await reader.ReadLineAsync() is { } line)
                {
                    lines.Add(line);
                }

                return lines;
            });
            var records = (await read3.WaitAsync(TimeSpan.FromSeconds(30))).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            Assert.Equal(3, records.Count);
            Assert.All(records, r => Assert.Equal("permit", S(r, "decision")));
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    /// <summary>Exactly <paramref name="count"/> records of an audit file, once they are written.</summary>
    internal static async Task<List<JsonObject>> RecordsAsync(string file, int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var lines = File.Exists(file) ? (await File.ReadAllLinesAsync(file)).Where(l => l.Length > 0).ToList() : [];
            if (lines.Count >= count)
            {
                Assert.Equal(count, lines.Count);
                return lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{count} audit records did not appear in {file}");
    }

    private static string? S(JsonObject record, string name) => record[name]?.GetValue<string>();

    private static int I(JsonObject record, string name) => record[name]!.GetValue<int>();
}
