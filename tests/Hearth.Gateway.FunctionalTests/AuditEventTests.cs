using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The audit trail as FHIR AuditEvents (IHE BALP) at HEARTH_AUDIT_FHIR_BASE: the development
/// Medplum server as the audit repository receives one per request; an audit server that hangs
/// never slows or fails a request, and what cannot wait is dropped and counted.
/// </summary>
[Collection(HearthCollection.Name)]
public class AuditEventTests(HearthEnvironment env)
{
    [Fact]
    public async Task EveryDecision_ReachesTheAuditServer_AsAnAuditEvent()
    {
        var before = (await AuditEventsAsync()).Select(a => a["id"]!.GetValue<string>()).ToHashSet();
        await using var gateway = await env.StartGatewayAsync(("HEARTH_AUDIT_FHIR_BASE", env.FhirBase));
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose();
        (await gateway.Client.GetWithTokenAsync("Observation/obs-04-1", token)).Dispose();
        (await gateway.Client.GetAsync("Observation/obs-03-1")).Dispose();

        List<JsonObject> added = [];
        for (var attempt = 0; attempt < 100 && added.Count < 3; attempt++)
        {
            await Task.Delay(200);
            added = (await AuditEventsAsync()).Where(a => !before.Contains(a["id"]!.GetValue<string>())).ToList();
        }

        Assert.Equal(3, added.Count);
        added = added.OrderBy(a => a["recorded"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
        Assert.All(added, a =>
        {
            Assert.Equal("rest", a["type"]!["code"]!.GetValue<string>());
            Assert.Equal("read", a["subtype"]![0]!["code"]!.GetValue<string>());
            Assert.Equal("R", a["action"]!.GetValue<string>());
            Assert.StartsWith("Hearth gateway", a["source"]!["observer"]!["display"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains(a["agent"]!.AsArray(), agent => agent!["requestor"]!.GetValue<bool>());
        });
        Assert.Equal(["0", "4", "4"], added.Select(a => a["outcome"]!.GetValue<string>()));

        var permitted = added[0]["entity"]!.AsArray().Select(e => e!["what"]?["reference"]?.GetValue<string>()).ToList();
        Assert.Contains("Patient/p03", permitted);
        Assert.Contains("Observation/obs-03-1", permitted);
        Assert.Contains("does not grant", added[1]["outcomeDesc"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, string.Concat(added.Select(a => a.ToJsonString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PurposeOfUse_IsTheAuditEventsPurposeOfEvent_FhirUserItsRequestor()
    {
        var before = (await AuditEventsAsync()).Select(a => a["id"]!.GetValue<string>()).ToHashSet();
        await using var gateway = await env.StartGatewayAsync(("HEARTH_AUDIT_FHIR_BASE", env.FhirBase));
        var token = await env.Auth.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]",
            claimsJson: "{\"fhirUser\":\"Practitioner/pr-8\",\"purpose_of_use\":\"BTG\"}");
        (await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token)).Dispose();

        List<JsonObject> added = [];
        for (var attempt = 0; attempt < 100 && added.Count < 1; attempt++)
        {
            await Task.Delay(200);
            added = (await AuditEventsAsync()).Where(a => !before.Contains(a["id"]!.GetValue<string>())).ToList();
        }

        var audit = Assert.Single(added);
        var purpose = audit["purposeOfEvent"]!.AsArray().Single()!["coding"]![0]!;
        Assert.Equal(("http://terminology.hl7.org/CodeSystem/v3-ActReason", "BTG"), (purpose["system"]!.GetValue<string>(), purpose["code"]!.GetValue<string>()));
        var requestor = audit["agent"]!.AsArray().Single(a => a!["requestor"]!.GetValue<bool>())!;
        Assert.Equal("Practitioner/pr-8", requestor["who"]!["reference"]!.GetValue<string>());
    }

    /// <summary>
    /// The audit server's first answer is cut off mid-body (and the html fault: an answer that is not
    /// FHIR): the batch is sent again after the back-off, whole, and every record is stored once.
    /// </summary>
    [Theory]
    [InlineData("truncate")]
    [InlineData("html")]
    public async Task AuditServerFailsOnce_TheBatchIsSentAgain_EveryRecordStoredOnce(string fault)
    {
        var before = (await AuditEventsAsync()).Select(a => a["id"]!.GetValue<string>()).ToHashSet();
        await using var gateway = await env.StartGatewayAsync(("HEARTH_AUDIT_FHIR_BASE", env.FhirBase), ("Logging:LogLevel:Hearth.Gateway.Audit", "Warning"));
        await env.FhirFaultAsync(fault);
        using var first = await gateway.Client.GetAsync("Observation/obs-03-1");     // no token: refused in the gateway, no call to the FHIR server
        using var second = await gateway.Client.GetWithTokenAsync("Patient/p01", "not-a-token-of-anyone");
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);

        List<JsonObject> added = [];
        for (var attempt = 0; attempt < 100 && added.Count < 2; attempt++)
        {
            await Task.Delay(200);
            added = (await AuditEventsAsync()).Where(a => !before.Contains(a["id"]!.GetValue<string>())).ToList();
        }

        await Task.Delay(1500); // a duplicate would come with the next attempt
        added = (await AuditEventsAsync()).Where(a => !before.Contains(a["id"]!.GetValue<string>())).ToList();
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("could not take audit records", StringComparison.Ordinal));
        Assert.Equal(2, added.Count);
        Assert.All(added, a => Assert.Equal("4", a["outcome"]!.GetValue<string>()));
        Assert.Equal(["Observation/obs-03-1", "Patient/p01"], added.Select(a => a["entity"]?[0]?["what"]?["reference"]?.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    /// <summary>An audit server that accepts connections and never answers.</summary>
    [Fact]
    public async Task AuditServerHangs_RequestsServedAsFast_DropsCounted()
    {
        using var hanging = new TcpListener(IPAddress.Loopback, 0);
        hanging.Start();
        var accepted = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                accepted.Add(await hanging.AcceptTcpClientAsync(stop.Token));
            }
        });
        try
        {
            var (gateway, metricsPort) = await env.StartGatewayWithMetricsAsync(("HEARTH_AUDIT_FHIR_BASE", $"http://127.0.0.1:{((IPEndPoint)hanging.LocalEndpoint).Port}/fhir"),
                ("HEARTH_AUDIT_BUFFER", "2"), ("Logging:LogLevel:Hearth.Gateway.Audit", "Information"));
            var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
            for (var i = 0; i < 10; i++)
            {
                var clock = Stopwatch.StartNew();
                using var read = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token);
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"request {i} waited {clock.Elapsed} (the audit server's timeout is 10 s)");
                await Task.Delay(50);
            }

            using var scraper = new HttpClient();
            var metrics = (await scraper.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics")).Split('\n');
            var fhirDrops = metrics.Where(l => l.StartsWith("hearth_audit_dropped_total{", StringComparison.Ordinal) && l.Contains("sink=\"fhir\"", StringComparison.Ordinal))
                .Sum(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture));
            Assert.True(fhirDrops >= 5, $"{fhirDrops} records dropped for the audit server; at most 2 wait and the first batch holds what was there");
            Assert.DoesNotContain(metrics, l => l.StartsWith("hearth_audit_dropped_total{", StringComparison.Ordinal) && l.Contains("sink=\"log\"", StringComparison.Ordinal));

            // Shutting down with the server still hanging: bounded (5 s to flush, then what is left is counted and said), never stuck.
            var stopping = Stopwatch.StartNew();
            await gateway.DisposeAsync();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"stopping took {stopping.Elapsed}");
            Assert.Contains(gateway.Logs.Lines, l => l.Contains("could not be sent before shutdown", StringComparison.Ordinal));
        }
        finally
        {
            await stop.CancelAsync();
            hanging.Stop();
            accepted.ForEach(c => c.Dispose());
        }
    }

    private async Task<List<JsonObject>> AuditEventsAsync()
    {
        var (status, bundle) = await env.Fhir.GetAsync("AuditEvent?_count=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        return (bundle!["entry"] as JsonArray ?? []).Select(e => e!["resource"]!.AsObject()).ToList();
    }
}
