using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using static Hearth.Cluster.Tests.ClusterFixture;

namespace Hearth.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public partial class ClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task KTokens_RequestsSpreadOverBothGateways_ExactlyKIntrospections()
    {
        const int K = 6;
        var tokens = new List<string>();
        for (var i = 0; i < K; i++)
        {
            tokens.Add(await cluster.TokenAsync("[" + Permission("10001") + "]"));
        }

        var before = await cluster.IntrospectionsAsync();
        for (var n = 0; n < 120; n++)
        {
            using var response = await cluster.Gateways[n % 2].GetAsync(n % 3 == 0 ? "Patient/p01" : "Observation?subject=Patient/p01", tokens[n % K]);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(before + K, await cluster.IntrospectionsAsync());
    }

    [Fact]
    public async Task Patients_ResolvedOncePerCluster_WhateverTheGateway()
    {
        var token = await cluster.TokenAsync("[" + Permission("*", "Condition") + "]");
        var before = await cluster.FhirCountAsync("GET Patient read");
        string[] patients = ["p11", "p12", "p13", "p14"];
        foreach (var gateway in cluster.Gateways)
        {
            foreach (var patient in patients)
            {
                using var response = await gateway.GetAsync($"Condition?subject=Patient/{patient}", token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal(before + patients.Length, await cluster.FhirCountAsync("GET Patient read"));
    }

    [Fact]
    public async Task Eviction_RevokedToken_StopsAtOnceOnEveryGateway()
    {
        var token = await cluster.TokenAsync("[" + Permission("10002") + "]");
        foreach (var gateway in cluster.Gateways)
        {
            using var ok = await gateway.GetAsync("Patient/p02", token);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        await cluster.RevokeAsync(token);
        using (var cached = await cluster.Gateways[1].GetAsync("Patient/p02", token))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode); // still cached until evicted (or exp)
        }

        using (var evict = await cluster.Gateways[0].AdminAsync("tokens/evict", ("token", token)))
        {
            Assert.Equal(HttpStatusCode.NoContent, evict.StatusCode);
        }

        foreach (var gateway in cluster.Gateways)
        {
            using var refused = await gateway.GetAsync("Patient/p02", token);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task EvictedJwt_RefusedOnEveryGateway_UntilItsExp()
    {
        var token = await cluster.Oidc.TokenForAsync("user/Observation.rs");
        foreach (var gateway in cluster.Gateways)
        {
            using var before = await gateway.GetAsync("Observation/obs-05-1", token);
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // validated in each gateway, no grain call
        }

        using (var evicted = await cluster.Gateways[0].AdminAsync("tokens/evict", ("token", token)))
        {
            Assert.Equal(HttpStatusCode.NoContent, evicted.StatusCode);
        }

        // At once on every gateway (the eviction answers after each was told), and it stays refused.
        foreach (var gateway in cluster.Gateways)
        {
            using var refused = await gateway.GetAsync("Observation/obs-05-1", token);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await Task.Delay(2500);
        using var still = await cluster.Gateways[1].GetAsync("Observation/obs-05-1", token);
        Assert.Equal(HttpStatusCode.Unauthorized, still.StatusCode);
    }

    [Fact]
    public async Task Eviction_ByTokenHash_AndWrongAdminKey()
    {
        var token = await cluster.TokenAsync("[" + Permission("10002") + "]");
        using (var ok = await cluster.Gateways[0].GetAsync("Patient/p02", token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        await cluster.RevokeAsync(token);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        using (var wrongKey = await cluster.Gateways[1].Client.PostAsync("_hearth/admin/tokens/evict", new FormUrlEncodedContent([new("token_hash", hash)])))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        }

        using (var stillCached = await cluster.Gateways[0].GetAsync("Patient/p02", token))
        {
            Assert.Equal(HttpStatusCode.OK, stillCached.StatusCode);
        }

        using (var evict = await cluster.Gateways[1].AdminAsync("tokens/evict", ("token_hash", hash)))
        {
            Assert.Equal(HttpStatusCode.NoContent, evict.StatusCode);
        }

        using var refused = await cluster.Gateways[0].GetAsync("Patient/p02", token);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task PatientInvalidation_ChangedIdentifier_UsedOnEveryGatewayAfterInvalidate()
    {
        var oldToken = await cluster.TokenAsync("[" + Permission("10015") + "]");
        var newToken = await cluster.TokenAsync("[" + Permission("99915") + "]");
        using (var warm = await cluster.Gateways[0].GetAsync("Observation/obs-15-1", oldToken))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // Patient/p15 resolved and cached as 10015
        }

        // Another system changes p15's identifier behind Hearth's back.
        await cluster.PutDirectAsync("Patient/p15", """{"resourceType":"Patient","id":"p15","identifier":[{"system":"urn:official:id","value":"99915"}]}""");
        using (var stale = await cluster.Gateways[1].GetAsync("Observation/obs-15-1", newToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode); // the cluster still knows p15 as 10015
        }

        using (var invalidate = await cluster.Gateways[1].AdminAsync("patients/invalidate", ("reference", "Patient/p15")))
        {
            Assert.Equal(HttpStatusCode.NoContent, invalidate.StatusCode);
        }

        foreach (var gateway in cluster.Gateways)
        {
            using var fresh = await gateway.GetAsync("Observation/obs-15-1", newToken);
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            using var old = await gateway.GetAsync("Observation/obs-15-1", oldToken);
            Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
        }
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task PatientWrittenThroughOneGateway_ForgottenByTheOtherAtOnce(string method)
    {
        var id = "cp-" + Guid.NewGuid().ToString("N")[..10];
        var obs = "co-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.PutDirectAsync($"Patient/{id}", "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"97001\"}]}");
        await cluster.PutDirectAsync($"Observation/{obs}", "{\"resourceType\":\"Observation\",\"id\":\"" + obs + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}");
        var oldToken = await cluster.TokenAsync("[" + Permission("97001") + "]");
        var newToken = await cluster.TokenAsync("[" + Permission("97002") + "]");
        using (var warm = await cluster.Gateways[1].GetAsync($"Observation/{obs}", oldToken))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the cluster now knows the Patient as 97001
        }

        var writer = await cluster.TokenAsync("[" + Permissions.For("97001", action: "*") + "," + Permissions.For("97002", action: "*") + "]");
        using (var write = new HttpRequestMessage(new HttpMethod(method), $"Patient/{id}"))
        {
            write.Content = method == "DELETE" ? null : method == "PUT"
                ? new StringContent("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"97002\"}]}", System.Text.Encoding.UTF8, "application/fhir+json")
                : new StringContent("[{\"op\":\"replace\",\"path\":\"/identifier/0/value\",\"value\":\"97002\"}]", System.Text.Encoding.UTF8, "application/json-patch+json");
            write.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", writer);
            using var written = await cluster.Gateways[0].Client.SendAsync(write);
            Assert.True(written.IsSuccessStatusCode, written.StatusCode.ToString());
        }

        if (method == "DELETE")
        {
            // The Patient is gone: its Observation no longer resolves to anyone, on the other gateway too.
            using var orphan = await cluster.Gateways[1].GetAsync($"Observation/{obs}", oldToken);
            Assert.Equal(HttpStatusCode.Forbidden, orphan.StatusCode);
            return;
        }

        using var fresh = await cluster.Gateways[1].GetAsync($"Observation/{obs}", newToken);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        using var old = await cluster.Gateways[1].GetAsync($"Observation/{obs}", oldToken);
        Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
    }

    [Fact]
    public async Task SiloKilledDuringLoad_OnlyTheInFlightWindowFails_NeverAnUnauthorized200_GrainsReturn()
    {
        await EnsureSilosAsync(2);
        const int K = 16;
        var permitted = new List<string>();
        for (var i = 0; i < K; i++)
        {
            permitted.Add(await cluster.TokenAsync("[" + Permission("10001", "Patient") + "]"));
        }

        var denied = await cluster.TokenAsync("[" + Permission("10002", "Patient") + "]");
        for (var i = 0; i < K; i++)
        {
            using var warm = await cluster.Gateways[i % 2].GetAsync("Patient/p01", permitted[i]);
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        using (var warmDenied = await cluster.Gateways[0].GetAsync("Patient/p01", denied))
        {
            Assert.Equal(HttpStatusCode.Forbidden, warmDenied.StatusCode); // introspected (and cached) before the baseline too
        }

        var introspectionsBefore = await cluster.IntrospectionsAsync();
        var results = new ConcurrentBag<(TimeSpan Start, bool Permitted, HttpStatusCode Status)>();
        var clock = Stopwatch.StartNew();
        var killAt = TimeSpan.FromSeconds(2);
        var stopAt = killAt + TimeSpan.FromSeconds(25);
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var n = w; clock.Elapsed < stopAt; n += 4)
            {
                var isPermitted = n % 5 != 0;
                var token = isPermitted ? permitted[n % K] : denied;
                var start = clock.Elapsed;
                HttpStatusCode status;
                try
                {
                    using var response = await cluster.Gateways[n % 2].GetAsync("Patient/p01", token);
                    status = response.StatusCode;
                }
                catch (TaskCanceledException)
                {
                    status = HttpStatusCode.GatewayTimeout;
                }

                results.Add((start, isPermitted, status));
            }
        })).ToArray();

        await Task.Delay(killAt);
        var victim = cluster.Silos.First(s => !s.HasExited);
        victim.Kill();
        var killedAt = clock.Elapsed;
        await Task.WhenAll(workers);

        var all = results.ToList();
        Assert.True(all.Count > 200, $"the loop ran {all.Count} requests");
        Assert.DoesNotContain(all, r => !r.Permitted && r.Status == HttpStatusCode.OK);
        Assert.All(all.Where(r => !r.Permitted), r => Assert.Contains(r.Status, new[] { HttpStatusCode.Forbidden, HttpStatusCode.ServiceUnavailable }));

        var failures = all.Where(r => r.Permitted && r.Status != HttpStatusCode.OK).ToList();
        Assert.All(failures, f => Assert.Equal(HttpStatusCode.ServiceUnavailable, f.Status));
        // Failures only for requests sent around the kill: in flight, or before the cluster declared the silo dead.
        var window = killedAt + TimeSpan.FromSeconds(10);
        Assert.All(failures, f => Assert.InRange(f.Start, killedAt - TimeSpan.FromSeconds(1), window));
        var after = all.Where(r => r.Permitted && r.Start > window).ToList();
        Assert.True(after.Count > 50, $"{after.Count} requests after the window");
        Assert.All(after, r => Assert.Equal(HttpStatusCode.OK, r.Status));

        // The grains that lived on the killed silo answer again from the other one, each re-fetching once.
        foreach (var token in permitted)
        {
            foreach (var gateway in cluster.Gateways)
            {
                using var response = await gateway.GetAsync("Patient/p01", token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        // Every token (K permitted + 1 denied) was cached before the kill: at most one re-fetch each.
        var refetched = await cluster.IntrospectionsAsync() - introspectionsBefore;
        Assert.InRange(refetched, 1, K + 1);

        await EnsureSilosAsync(2);
    }

    /// <summary>
    /// Another process listens on a silo port (on every address, with address reuse): the silo stops
    /// at start with exit code 2 naming the setting, instead of sharing the port; the cluster is untouched.
    /// </summary>
    [Fact]
    public async Task Silo_PortTakenByAnotherProcess_ExitsNamingTheSetting()
    {
        using var held = TestPorts.Hold(IPAddress.Any);
        var taken = held.Port;
        await using var silo = ChildProcess.StartHearth("silo-port-taken", "src/Silo/Hearth.Silo",
            cluster.Environment(("HEARTH_SILO_PORT", TestPorts.Free().ToString()), ("HEARTH_SILO_GATEWAY_PORT", taken.ToString())));

        Assert.Equal(2, await silo.ExitCodeAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(silo.Lines, l => l.Contains($"HEARTH_SILO_GATEWAY_PORT: port {taken} on 0.0.0.0 is already in use by another process", StringComparison.Ordinal));
        var token = await cluster.TokenAsync("[" + Permission("10001", "Patient") + "]");
        using var still = await cluster.Gateways[1].GetAsync("Patient/p01", token);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task AllSilosDown_Gateways503AndNotReady_RecoverWhenASiloReturns()
    {
        var token = await cluster.TokenAsync("[" + Permission("10001", "Patient") + "]");
        using (var ok = await cluster.Gateways[0].GetAsync("Patient/p01", token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        foreach (var silo in cluster.Silos.Where(s => !s.HasExited).ToList())
        {
            silo.Kill();
        }

        // A warm request makes no grain call: a gateway serves from its caches until it notices the
        // lost connection, or at most until its cache subscription's window (2 × 5 s) ends.
        foreach (var gateway in cluster.Gateways)
        {
            await WaitUntilAsync(async () =>
            {
                using var response = await gateway.GetAsync("Patient/p01", token);
                return response.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(12), $"{gateway.Process.Name} refusing without a silo");
        }

        var readsBefore = await cluster.FhirCountAsync("GET Patient read");
        foreach (var gateway in cluster.Gateways)
        {
            using var response = await gateway.GetAsync("Patient/p01", token);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("OperationOutcome", body["resourceType"]!.GetValue<string>());
            Assert.Equal("transient", body["issue"]![0]!["code"]!.GetValue<string>());
            using var ready = await gateway.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        Assert.Equal(readsBefore, await cluster.FhirCountAsync("GET Patient read")); // nothing forwarded unchecked

        await cluster.StartSiloAsync();
        foreach (var gateway in cluster.Gateways)
        {
            await WaitUntilAsync(async () =>
            {
                using var response = await gateway.GetAsync("Patient/p01", token);
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(60), $"{gateway.Process.Name} serving again");
            using var ready = await gateway.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await EnsureSilosAsync(2);
    }

    private async Task EnsureSilosAsync(int count)
    {
        while (cluster.Silos.Count(s => !s.HasExited) < count)
        {
            await cluster.StartSiloAsync();
        }
    }

    [Fact]
    public async Task Export_StartedThroughOneGateway_PolledAndDownloadedThroughTheOther()
    {
        var token = await cluster.TokenAsync("[" + Permissions.For("*", "Condition", "bulk-export") + "]");
        using var kickOff = new HttpRequestMessage(HttpMethod.Get, "$export?_type=Condition");
        kickOff.Headers.Add("Prefer", "respond-async");
        kickOff.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var started = await cluster.Gateways[0].Client.SendAsync(kickOff);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var status = new Uri(started.Content.Headers.ContentLocation?.ToString() ?? started.Headers.GetValues("Content-Location").Single()).AbsolutePath.TrimStart('/');

        using (var first = await cluster.Gateways[1].GetAsync(status, token))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode); // the other gateway finds the export grain
        }

        using var manifest = await cluster.Gateways[1].GetAsync(status, token);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        var file = System.Text.Json.Nodes.JsonNode.Parse(await manifest.Content.ReadAsStringAsync())!["output"]![0]!["url"]!.GetValue<string>();
        Assert.StartsWith(cluster.Gateways[1].BaseUrl, file, StringComparison.Ordinal);

        using var download = await cluster.Gateways[0].GetAsync(new Uri(file).AbsolutePath.TrimStart('/'), token);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var lines = (await download.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // cond-01 .. cond-19; cond-20's patient has no identifier, so no permission can grant it
        Assert.Equal(19, lines.Length);
        Assert.DoesNotContain(lines, l => l.Contains("\"cond-20\"", StringComparison.Ordinal));
    }
}
