using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Batch and transaction: every entry decided as if sent alone. Writes use p17 (the token's) and
/// p18 (another's); the FHIR server's state is read directly afterwards.
/// </summary>
[Collection(HearthCollection.Name)]
public class BatchTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private Task<string> Writer17Async() => env.TokenAsync("[" + Permission("10017", action: "*", labels: Labels("N")) + "]");

    private static string Marker() => "batch-" + Guid.NewGuid().ToString("N")[..10];

    private static JsonObject CreateEntry(string patient, string marker, string label = "N")
        => new()
        {
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]},"
                + "\"status\":\"final\",\"code\":{\"text\":\"" + marker + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}"),
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Observation" },
        };

    private static JsonObject GetEntry(string url) => new() { ["request"] = new JsonObject { ["method"] = "GET", ["url"] = url } };

    private async Task<HttpResponseMessage> PostBundleAsync(string type, string token, params JsonObject[] entries)
    {
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = type, ["entry"] = new JsonArray(entries) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(bundle.ToJsonString(), Encoding.UTF8, "application/fhir+json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Client.SendAsync(request);
    }

    private async Task<int> StoredWithMarkerAsync(string marker)
    {
        var (_, bundle) = await env.Fhir.GetAsync($"Observation?code:text={marker}&_count=100");
        return bundle!["entry"]?.AsArray().Count ?? 0;
    }

    private static List<string> Statuses(JsonObject bundle)
        => bundle["entry"]!.AsArray().Select(e => e!["response"]!["status"]!.GetValue<string>().Split(' ')[0]).ToList();

    /// <summary>Transactions of two creates (the token: p17, label N): name, the second entry's patient and label, the status, how many are stored.</summary>
    public static TheoryData<string, string, string, HttpStatusCode, int> TransactionsOfCreates => new()
    {
        { "all permitted: committed", "p17", "N", HttpStatusCode.OK, 2 },
        { "one entry of another patient: refused whole", "p18", "N", HttpStatusCode.Forbidden, 0 },
        { "one entry with a label not granted: refused whole", "p17", "R", HttpStatusCode.Forbidden, 0 },
    };

    [Theory]
    [MemberData(nameof(TransactionsOfCreates))]
    public async Task Transaction_OfCreates(string name, string patient, string label, HttpStatusCode status, int stored)
    {
        var marker = Marker();
        using var response = await PostBundleAsync("transaction", await Writer17Async(), CreateEntry("p17", marker), CreateEntry(patient, marker, label));
        Assert.True(status == response.StatusCode, $"{name}: {response.StatusCode}");
        if (status == HttpStatusCode.OK)
        {
            Assert.Equal(["201", "201"], Statuses(await response.JsonAsync()));
        }
        else
        {
            await response.AssertOutcomeAsync("forbidden");
        }

        Assert.Equal(stored, await StoredWithMarkerAsync(marker));
    }

    [Fact]
    public async Task Transaction_UpdateMovingAResourceToAnotherPatient_RefusedWhole()
    {
        var id = "bt-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p17\"}}");
        var update = new JsonObject
        {
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p18\"}}"),
            ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = $"Observation/{id}" },
        };
        using var response = await PostBundleAsync("transaction", await Writer17Async(), update);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("Patient/p17", stored!["subject"]!["reference"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_DeniedEntriesAnsweredWithErrors_TheRestProceeds_ReadsFiltered()
    {
        var marker = Marker();
        using var response = await PostBundleAsync("batch", await Writer17Async(),
            CreateEntry("p17", marker),
            CreateEntry("p18", marker),
            GetEntry("Observation/obs-03-1"),
            GetEntry("Observation?subject=Patient/p17&code:text=" + marker),
            GetEntry("Observation?subject=Patient/p03"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal("batch-response", bundle["type"]!.GetValue<string>());
        Assert.Equal(["201", "403", "403", "200", "200"], Statuses(bundle));
        Assert.Null(bundle["entry"]![4]!["resource"]!["entry"]); // the search of p03: nothing the token may see, as if nothing had matched
        Assert.Equal("OperationOutcome", bundle["entry"]![1]!["response"]!["outcome"]!["resourceType"]!.GetValue<string>());
        Assert.DoesNotContain(env.FhirBase, bundle.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(1, await StoredWithMarkerAsync(marker)); // the p17 entry only
    }

    [Fact]
    public async Task Batch_SearchEntry_RedactedLikeAStandaloneSearch()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var response = await PostBundleAsync("batch", token, GetEntry("Observation?subject=Patient/p03"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var searchset = (await response.JsonAsync())["entry"]![0]!["resource"]!.AsObject();
        Assert.Equal(["obs-03-1"], searchset.EntryIds());
        Assert.Null(searchset["total"]);
    }

    [Fact]
    public async Task Batch_NothingPermitted_AnsweredWithoutForwarding()
    {
        var before = await env.FhirTotalCountAsync();
        using var response = await PostBundleAsync("batch", await Writer17Async(),
            CreateEntry("p18", Marker()),
            GetEntry("Observation?_elements=subject"),
            GetEntry("Patient/p01/$reindex"),
            new JsonObject { ["request"] = new JsonObject { ["method"] = "DELETE", ["url"] = "Observation?subject=Patient/p17" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["403", "400", "403", "412"], Statuses(await response.JsonAsync())); // p17 has several Observations: one conditional delete entry removes one at most
        Assert.True(await env.FhirTotalCountAsync() - before <= 1); // at most the resolution of p18, never a write
    }

    [Fact]
    public async Task Batch_PatchEntry_JudgedOnItsResult()
    {
        var id = "bp-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p17\"}}");
        JsonObject Patch(string json) => new()
        {
            ["resource"] = new JsonObject { ["resourceType"] = "Binary", ["contentType"] = "application/json-patch+json", ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(json)) },
            ["request"] = new JsonObject { ["method"] = "PATCH", ["url"] = $"Observation/{id}" },
        };
        using var response = await PostBundleAsync("batch", await Writer17Async(),
            Patch("[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient/p18\"}]"));
        Assert.Equal(["403"], Statuses(await response.JsonAsync()));
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("Patient/p17", stored!["subject"]!["reference"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_FhirPathPatchEntries_PermittedOneApplied_DeniedOneUnchanged()
    {
        async Task<string> NewObservationAsync()
        {
            var id = "bf-" + Guid.NewGuid().ToString("N")[..10];
            await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p17\"}}");
            return id;
        }

        JsonObject Patch(string id, string path, string valuePart) => new()
        {
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"replace\"},"
                + "{\"name\":\"path\",\"valueString\":\"" + path + "\"},{\"name\":\"value\"," + valuePart + "}]}]}"),
            ["request"] = new JsonObject { ["method"] = "PATCH", ["url"] = $"Observation/{id}" },
        };

        var (allowed, denied) = (await NewObservationAsync(), await NewObservationAsync());
        using var response = await PostBundleAsync("batch", await Writer17Async(),
            Patch(allowed, "Observation.status", "\"valueCode\":\"amended\""),
            Patch(denied, "Observation.subject.reference", "\"valueString\":\"Patient/p18\""));
        Assert.Equal(["200", "403"], Statuses(await response.JsonAsync()));
        var (_, patched) = await env.Fhir.GetAsync($"Observation/{allowed}");
        Assert.Equal("amended", patched!["status"]!.GetValue<string>());
        var (_, untouched) = await env.Fhir.GetAsync($"Observation/{denied}");
        Assert.Equal("Patient/p17", untouched!["subject"]!["reference"]!.GetValue<string>());
    }

    private static (JsonObject Patient, JsonObject Observation) PatientWithObservation(string identifier, string marker, string? urnOverride = null)
    {
        var urn = "urn:uuid:" + Guid.NewGuid();
        var patient = new JsonObject
        {
            ["fullUrl"] = urn,
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + marker + "\"}],\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"" + identifier + "\"}]}"),
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Patient" },
        };
        var observation = CreateEntry("p17", marker);
        observation["resource"]!["subject"]!["reference"] = urnOverride ?? urn;
        return (patient, observation);
    }

    /// <summary>
    /// A new Patient and an Observation of it by urn (the token: 10017): name, the bundle type, the
    /// new Patient's identifier, the Observation's reference instead of the Patient's urn, the status,
    /// the entries' statuses (null: refused whole), how many Observations and Patients are stored.
    /// </summary>
    public static TheoryData<string, string, string, string?, HttpStatusCode, string[]?, int, int> UrnReferences => new()
    {
        { "transaction: references between entries resolved", "transaction", "10017", null, HttpStatusCode.OK, ["201", "201"], 1, 1 },
        { "transaction: an Observation of a new patient the token may not touch", "transaction", "10018", null, HttpStatusCode.Forbidden, null, 0, 0 },
        { "transaction: a urn of no entry", "transaction", "10017", "urn:uuid:00000000-0000-0000-0000-00000000beef", HttpStatusCode.Forbidden, null, 0, 0 },
        { "batch: entries are independent, a urn to another entry is not resolved", "batch", "10017", null, HttpStatusCode.OK, ["201", "403"], 0, 1 },
    };

    [Theory]
    [MemberData(nameof(UrnReferences))]
    public async Task PatientAndItsObservation(string name, string type, string identifier, string? urnOverride, HttpStatusCode status, string[]? statuses, int observations, int patients)
    {
        var marker = Marker();
        var (patient, observation) = PatientWithObservation(identifier, marker, urnOverride);
        using var response = await PostBundleAsync(type, await env.TokenAsync("[" + Permission("10017", action: "*") + "]"), patient, observation);
        Assert.True(status == response.StatusCode, $"{name}: {response.StatusCode}");
        if (statuses is not null)
        {
            Assert.Equal(statuses, Statuses(await response.JsonAsync()));
        }

        Assert.Equal(observations, await StoredWithMarkerAsync(marker));
        var (_, stored) = await env.Fhir.GetAsync($"Patient?name={marker}");
        Assert.Equal(patients, stored!["entry"]?.AsArray().Count ?? 0);
        if (observations > 0)
        {
            var (_, found) = await env.Fhir.GetAsync($"Observation?code:text={marker}");
            var subject = found!["entry"]![0]!["resource"]!["subject"]!["reference"]!.GetValue<string>();
            Assert.StartsWith("Patient/", subject, StringComparison.Ordinal); // the server resolved the urn
        }
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}", HttpStatusCode.BadRequest)]
    [InlineData("{\"resourceType\":\"Patient\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\"}}]}", HttpStatusCode.OK)] // entry without request: error entry
    public async Task BadBundles_Refused(string body, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(body, Encoding.UTF8, "application/fhir+json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await Writer17Async());
        using var response = await Client.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        if (status == HttpStatusCode.OK)
        {
            Assert.Equal(["400"], Statuses(await response.JsonAsync()));
        }
    }
}
