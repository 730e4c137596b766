using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// No input can crash the gateway or make it, or the FHIR server, work without bound. The bombs are
/// sent to a gateway in a process of its own (embedded mode), so that a crash shows as a dead
/// process and memory as its resident size; the rest count what reaches the FHIR server.
/// </summary>
[Collection(HearthCollection.Name)]
public class BoundsTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private static string NestedXml(int depth)
        => "<OperationOutcome xmlns=\"http://hl7.org/fhir\">" + string.Concat(Enumerable.Repeat("<extension url=\"http://x\">", depth))
           + string.Concat(Enumerable.Repeat("</extension>", depth)) + "<issue><severity value=\"error\"/><code value=\"invalid\"/></issue></OperationOutcome>";

    private static JsonObject Delete(string url) => new() { ["request"] = new JsonObject { ["method"] = "DELETE", ["url"] = url } };

    [Fact]
    public async Task Bombs_TheGatewayProcessStaysAlive_AndItsMemoryDoesNotJump()
    {
        var port = TestPorts.Free();
        var settings = env.Settings(("UNPROTECTED_RESOURCE_TYPES", "OperationOutcome,Organization"));
        settings["PORT"] = port.ToString();
        settings["HEARTH_SILO_PORT"] = TestPorts.Free().ToString();
        settings["HEARTH_SILO_GATEWAY_PORT"] = TestPorts.Free().ToString();
        settings["HEARTH_CLUSTER_ID"] = "bombs-" + Guid.NewGuid().ToString("N")[..8];
        settings["ASPNETCORE_URLS"] = null;
        await using var gateway = ChildProcess.StartHearth("bomb-gateway", "src/Gateway/Hearth.Gateway", settings);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilReadyAsync(client, gateway);

        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        var own = "bomb-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{own}", "{\"resourceType\":\"Observation\",\"id\":\"" + own + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf
            + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},\"subject\":{\"reference\":\"Patient/p17\"}}");

        // Warm every path once, then take the resident size.
        for (var i = 0; i < 3; i++)
        {
            using var warm = await client.SendAsync("PATCH", $"Observation/{own}", token, "[{\"op\":\"test\",\"path\":\"/status\",\"value\":\"final\"}]", "application/json-patch+json");
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var before = ResidentBytes(gateway.ProcessId);
        var copies = "[" + string.Join(",", Enumerable.Repeat("{\"op\":\"copy\",\"from\":\"/code\",\"path\":\"/code/coding/-\"}", 40)) + "]";
        var fhirPath = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"delete\"},"
                       + "{\"name\":\"path\",\"valueString\":\"" + new string('(', 300) + "Observation.focus" + new string(')', 300) + "\"}]}]}";
        var bombs = new (string Name, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Expected)[]
        {
            ("8,000-deep XML to an unprotected type, no token", () => client.SendAsync("POST", "OperationOutcome", null, NestedXml(8000), "application/fhir+xml"), HttpStatusCode.BadRequest),
            ("8,000-deep XML batch", () => client.SendAsync("POST", "", token, "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry><resource>" + NestedXml(8000) + "</resource><request><method value=\"POST\"/><url value=\"OperationOutcome\"/></request></entry></Bundle>", "application/fhir+xml"), HttpStatusCode.BadRequest),
            ("FHIRPath Patch path nested 300 deep", () => client.SendAsync("PATCH", $"Observation/{own}", token, fhirPath), HttpStatusCode.UnprocessableEntity),
            ("JSON Patch of 40 doubling copies", () => client.SendAsync("PATCH", $"Observation/{own}", token, copies, "application/json-patch+json"), HttpStatusCode.UnprocessableEntity),
            ("20,000 batch entries", () => client.PostBundleAsync("batch", token, Enumerable.Repeat(0, 20_000).Select(_ => (JsonNode)Delete("Observation/obs-02-1")).ToArray()), HttpStatusCode.RequestEntityTooLarge),
            ("1.6 million element names", () => client.SendAsync("POST", "Observation/_search", token, "_elements=" + string.Join(",", Enumerable.Repeat("abcde", 1_600_000)), "application/x-www-form-urlencoded"), HttpStatusCode.BadRequest),
        };

        foreach (var (name, send, expected) in bombs)
        {
            using (var response = await send())
            {
                Assert.True(expected == response.StatusCode, $"{name}: {response.StatusCode}");
            }

            Assert.False(gateway.HasExited, $"{name} ended the gateway process");
            using var health = await client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var grown = ResidentBytes(gateway.ProcessId) - before;
        Assert.True(grown < 256L * 1024 * 1024, $"the gateway grew by {grown / (1024 * 1024)} MB");
    }

    [Fact]
    public async Task Batch_OverTheEntryLimit_413_NothingRead()
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.PostBundleAsync("batch", token, Enumerable.Range(0, 1001).Select(_ => (JsonNode)Delete("Observation/obs-02-1")).ToArray());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("1000", await response.AssertOutcomeAsync("too-costly"), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Batch_RefusedDeletesOfOneResource_ItIsReadOnce()
    {
        // May delete Observations of p01 only: each entry needs the stored version, read once for all.
        var token = await env.TokenAsync("[" + Permission("10001", "Observation", "delete") + "]");
        var before = await env.FhirCountAsync("GET Observation read");
        using var response = await Client.PostBundleAsync("batch", token, Enumerable.Range(0, 1000).Select(_ => (JsonNode)Delete("Observation/obs-02-1")).ToArray());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = (await response.JsonAsync())["entry"]!.AsArray();
        Assert.Equal(1000, entries.Count);
        Assert.All(entries, e => Assert.StartsWith("403", e!["response"]!["status"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal(before + 1, await env.FhirCountAsync("GET Observation read"));
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync("Observation/obs-02-1")).Status);
    }

    [Fact]
    public async Task Batch_EntriesNoGrantCouldAllow_RefusedWithoutAnyRead()
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]"); // read only
        var before = await env.FhirTotalCountAsync();
        var entries = Enumerable.Range(1, 9).Select(i => (JsonNode)Delete($"Observation/obs-0{i}-1"))
            .Append(new JsonObject
            {
                ["resource"] = JsonNode.Parse("{\"resourceType\":\"Patient\",\"id\":\"p01\"}"),
                ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = "Patient/p01" },
            }).ToArray();
        using var response = await Client.PostBundleAsync("batch", token, entries);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.All((await response.JsonAsync())["entry"]!.AsArray(), e => Assert.StartsWith("403", e!["response"]!["status"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Transaction_StopsReadingAtTheFirstRefusal()
    {
        // 200 deletes of other patients' resources: a transaction is refused at the first, not after reading all.
        var token = await env.TokenAsync("[" + Permission("10001", "Observation", "delete") + "]");
        var before = await env.FhirCountAsync("GET Observation read");
        var entries = Enumerable.Range(0, 200).Select(i => (JsonNode)Delete($"Observation/obs-{2 + i % 18:00}-{1 + i / 18 % 3}")).ToArray();
        using var response = await Client.PostBundleAsync("transaction", token, entries);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var reads = await env.FhirCountAsync("GET Observation read") - before;
        Assert.True(reads <= 2 * BatchParallelism, $"{reads} stored versions read");
    }

    private const int BatchParallelism = 8;

    [Theory]
    [InlineData("Observation?_elements={101}")]
    [InlineData("Observation?_id={101}")]
    [InlineData("$export?_type={101}")]
    public async Task LongLists_400_NothingForwarded(string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetWithTokenAsync(path.Replace("{101}", string.Join(",", Enumerable.Range(0, 101).Select(i => "a" + (char)('a' + i % 26))), StringComparison.Ordinal), token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("too-costly");
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, ChildProcess gateway)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline && !gateway.HasExited)
        {
            try
            {
                using var ready = await client.GetAsync("readyz");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("The gateway process did not become ready: " + string.Join(Environment.NewLine, gateway.Lines.TakeLast(20)));
    }

    /// <summary>VmRSS of a process, from /proc.</summary>
    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
