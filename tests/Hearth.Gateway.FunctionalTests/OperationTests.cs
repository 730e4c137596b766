using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Operations at each level, by GET and by POST, through a real gateway to the development FHIR
/// server (Medplum's engine; $meta, $meta-add, $meta-delete, $validate, $lastn and $everything are
/// built on its repository by the wrapper, $graphql is Medplum's own). Each is judged by the
/// operations table: by its answer, by the stored resource, as the write it describes, or only for
/// a token that reads everything. Writes are checked at the FHIR server afterwards.
/// </summary>
[Collection(HearthCollection.Name)]
public class OperationTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private static string ParametersOf(params (string Name, string Value)[] values)
        => new JsonObject
        {
            ["resourceType"] = "Parameters",
            ["parameter"] = new JsonArray(values.Select(v => (JsonNode)new JsonObject { ["name"] = v.Name, ["valueString"] = v.Value }).ToArray()),
        }.ToJsonString();

    private static string MetaParameters(params string[] labels)
        => "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{\"security\":["
           + string.Join(",", labels.Select(l => "{\"system\":\"" + Conf + "\",\"code\":\"" + l + "\"}")) + "]}}]}";

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, string? body = null, string contentType = "application/fhir+json",
        GatewayInstance? gateway = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await (gateway?.Client ?? Client).SendAsync(request);
    }

    private async Task<List<string>> StoredLabelsAsync(string path)
        => ((await env.Fhir.GetAsync(path)).Resource!["meta"]?["security"]?.AsArray() ?? []).Select(c => c!["code"]!.GetValue<string>()).Order().ToList();

    private async Task<string> StoreObservationAsync(string patient, params string[] labels)
        => await env.Fhir.PostAsync("Observation", "{\"resourceType\":\"Observation\",\"meta\":{\"security\":["
            + string.Join(",", labels.Select(l => "{\"system\":\"" + Conf + "\",\"code\":\"" + l + "\"}")) + "]},\"status\":\"final\",\"code\":{\"text\":\"op\"},"
            + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");

    private static IEnumerable<string> Subjects(JsonObject bundle)
        => (bundle["entry"]?.AsArray() ?? []).Select(e => e!["resource"]!).Select(r => r["resourceType"]!.GetValue<string>() == "Patient"
            ? "Patient/" + r["id"]!.GetValue<string>()
            : r["subject"]!["reference"]!.GetValue<string>());

    [Fact]
    public async Task Everything_ByPost_JudgedByItsAnswer()
    {
        var token = await env.TokenAsync("[" + Permission("10017") + "]");

        using var own = await SendAsync(HttpMethod.Post, "Patient/p17/$everything", token, ParametersOf(("_count", "100")));
        using var other = await SendAsync(HttpMethod.Post, "Patient/p18/$everything", token, ParametersOf());

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var subjects = Subjects(await own.JsonAsync()).ToList();
        Assert.NotEmpty(subjects);
        Assert.All(subjects, s => Assert.Equal("Patient/p17", s));
        await other.AssertEmptySearchAsync();
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Patient\",\"id\":\"p17\"}", HttpStatusCode.BadRequest)] // not Parameters
    [InlineData("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_filter\",\"valueString\":\"name eq x\"}]}", HttpStatusCode.Forbidden)] // a criterion over every type
    [InlineData("not json", HttpStatusCode.BadRequest)]
    public async Task Everything_ByPost_BodyCheckedAsAQuery_NothingForwarded(string body, HttpStatusCode status)
    {
        var token = await env.TokenAsync("[" + Permission("10017") + "]");
        var before = await env.FhirTotalCountAsync();

        using var response = await SendAsync(HttpMethod.Post, "Patient/p17/$everything", token, body);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Lastn_ByPost_RedactedLikeASearch()
    {
        var token = await env.TokenAsync("[" + Permission("10017") + "]");

        using var response = await SendAsync(HttpMethod.Post, "Observation/$lastn", token, ParametersOf(("max", "50")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var subjects = Subjects(await response.JsonAsync()).ToList();
        Assert.Contains("Patient/p17", subjects);
        Assert.All(subjects, s => Assert.Equal("Patient/p17", s));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task Meta_OfAnInstance_NeedsReadOfTheStoredResource(string method)
    {
        var token = await env.TokenAsync("[" + Permission("10017") + "]");
        var body = method == "POST" ? ParametersOf() : null;

        using var own = await SendAsync(new HttpMethod(method), "Observation/obs-17-1/$meta", token, body);
        using var other = await SendAsync(new HttpMethod(method), "Observation/obs-18-1/$meta", token, body);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("Parameters", (await own.JsonAsync())["resourceType"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Theory]
    [InlineData("Observation/$meta")]
    [InlineData("$meta")]
    public async Task Meta_OfATypeOrTheSystem_OnlyForAWholeReader(string path)
    {
        var narrow = await env.TokenAsync("[" + Permission("10017") + "]");
        var whole = await env.TokenAsync("[" + Permission("*") + "]");
        var before = await env.FhirTotalCountAsync();

        using var refused = await SendAsync(HttpMethod.Get, path, narrow);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());

        using var served = await SendAsync(HttpMethod.Get, path, whole);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("\"R\"", await served.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetaAdd_IsAnUpdate_OfTheStoredAndOfTheResult()
    {
        var id = await StoreObservationAsync("p17", "N");
        var normalOnly = await env.TokenAsync("[" + Permission("10017", action: "*", labels: Labels("N")) + "]");
        var anyLabel = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        var otherPatient = await env.TokenAsync("[" + Permission("10018", action: "*") + "]");

        using var cannotWriteR = await SendAsync(HttpMethod.Post, $"Observation/{id}/$meta-add", normalOnly, MetaParameters("R"));
        using var notItsPatient = await SendAsync(HttpMethod.Post, $"Observation/{id}/$meta-add", otherPatient, MetaParameters("N"));
        Assert.Equal(HttpStatusCode.Forbidden, cannotWriteR.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, notItsPatient.StatusCode);
        Assert.Equal(["N"], await StoredLabelsAsync("Observation/" + id));

        using var added = await SendAsync(HttpMethod.Post, $"Observation/{id}/$meta-add", anyLabel, MetaParameters("R"));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(["N", "R"], await StoredLabelsAsync("Observation/" + id));
    }

    [Fact]
    public async Task MetaDelete_OfALabel_NeedsTheRightToThatLabel()
    {
        var id = await StoreObservationAsync("p17", "N", "R");
        var normalOnly = await env.TokenAsync("[" + Permission("10017", action: "*", labels: Labels("N")) + "]");
        var anyLabel = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");

        using var refused = await SendAsync(HttpMethod.Post, $"Observation/{id}/$meta-delete", normalOnly, MetaParameters("R"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(["N", "R"], await StoredLabelsAsync("Observation/" + id));

        using var removed = await SendAsync(HttpMethod.Post, $"Observation/{id}/$meta-delete", anyLabel, MetaParameters("R"));
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(["N"], await StoredLabelsAsync("Observation/" + id));
    }

    [Theory]
    [InlineData("Observation/$validate", "p17", HttpStatusCode.OK)]
    [InlineData("Observation/$validate", "p18", HttpStatusCode.Forbidden)] // the create it describes is not permitted
    [InlineData("Observation/$validate?mode=profile", "p18", HttpStatusCode.Forbidden)]
    [InlineData("Observation/obs-17-1/$validate?mode=delete", null, HttpStatusCode.OK)]
    [InlineData("Observation/obs-18-1/$validate?mode=delete", null, HttpStatusCode.Forbidden)]
    [InlineData("Observation/obs-18-1/$validate", "p17", HttpStatusCode.Forbidden)] // an update of another patient's resource
    public async Task Validate_JudgedAsTheWriteItDescribes_NothingWritten(string path, string? patient, HttpStatusCode status)
    {
        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        var id = path.Split('/')[1].StartsWith('$') ? null : path.Split('/')[1];
        var resource = patient is null ? null
            : "{\"resourceType\":\"Observation\"" + (id is null ? "" : ",\"id\":\"" + id + "\"") + ",\"status\":\"final\",\"code\":{\"text\":\"v\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
        var body = resource is null ? ParametersOf() : "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resource\",\"resource\":" + resource + "}]}";
        var before = await env.Fhir.ObservationCountAsync("p17");

        using var response = await SendAsync(HttpMethod.Post, path, token, body);

        Assert.Equal(status, response.StatusCode);
        if (status == HttpStatusCode.OK)
        {
            Assert.Equal("OperationOutcome", (await response.JsonAsync())["resourceType"]!.GetValue<string>());
        }

        Assert.Equal(before, await env.Fhir.ObservationCountAsync("p17"));
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync("Observation/obs-17-1")).Status);
    }

    [Fact]
    public async Task GraphQL_OnlyForATokenThatReadsEverything()
    {
        const string query = "{\"query\":\"{ Patient(id: \\\"p17\\\") { id } }\"}";
        var narrow = await env.TokenAsync("[" + Permission("10017") + "]");
        var whole = await env.TokenAsync("[" + Permission("*") + "]");
        var before = await env.FhirTotalCountAsync();

        using var refused = await SendAsync(HttpMethod.Post, "$graphql", narrow, query, "application/json");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());

        using var served = await SendAsync(HttpMethod.Post, "$graphql", whole, query, "application/json");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("p17", (await served.JsonAsync())["data"]!["Patient"]!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("POST", "Patient/p17/$purge")]
    [InlineData("POST", "$reindex")]
    [InlineData("GET", "Observation/$custom-read")]
    public async Task NotInTheTable_403NamingIt_NothingForwarded(string method, string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();

        using var response = await SendAsync(new HttpMethod(method), path, token, method == "POST" ? ParametersOf() : null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("$" + path.Split('$')[1], await response.AssertOutcomeAsync("not-supported"), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task AllowedOperations_AddsAReadingOperation_JudgedByItsAnswer()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_ALLOWED_OPERATIONS", "$custom-read"));
        var token = await env.TokenAsync("[" + Permission("10017") + "]");
        var before = await env.Fhir.CountAsync("POST Observation read");

        using var response = await SendAsync(HttpMethod.Post, "Observation/$custom-read", token, ParametersOf(), gateway: gateway);

        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode); // forwarded; the development server does not know it
        Assert.Equal(before + 1, await env.Fhir.CountAsync("POST Observation read"));
    }

    [Fact]
    public async Task ExportKickOff_ByPost_JudgedAsTheGetItDescribes()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + "]");
        var before = (await env.Fhir.ExportsAsync()).Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "$export")
        {
            Content = new StringContent(ParametersOf(("_type", "Observation")), Encoding.UTF8, "application/fhir+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Prefer", "respond-async");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith(env.Gateway.BaseUrl + "/_hearth/export/", response.Content.Headers.ContentLocation?.ToString() ?? response.Headers.GetValues("Content-Location").Single(),
            StringComparison.Ordinal);
        var jobs = await env.Fhir.ExportsAsync();
        Assert.Equal(before + 1, jobs.Count);
        Assert.All(jobs[^1]!["searches"]!.AsArray(), s => Assert.StartsWith("/Observation?", s!.GetValue<string>(), StringComparison.Ordinal));

        using var types = await SendAsync(HttpMethod.Post, "$export", token, ParametersOf(("_type", "Observation,Condition")));
        using var patients = await SendAsync(HttpMethod.Post, "$export", token, ParametersOf(("patient", "Patient/p17")));
        Assert.Equal(HttpStatusCode.BadRequest, types.StatusCode); // no Prefer: respond-async, as a GET kick-off
        Assert.Equal(HttpStatusCode.BadRequest, patients.StatusCode);
        Assert.Equal(before + 1, (await env.Fhir.ExportsAsync()).Count);
    }

    [Theory]
    [InlineData("GET", "Observation/obs-17-1/$meta-add")]
    [InlineData("GET", "Observation/obs-17-1/$lastn")]
    [InlineData("POST", "Observation/$everything")]
    public async Task WrongLevelOrMethod_400_NothingForwarded(string method, string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();

        using var response = await SendAsync(new HttpMethod(method), path, token, method == "POST" ? ParametersOf() : null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("not-supported");
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Batch_OperationEntries_JudgedAsAlone()
    {
        var id = await StoreObservationAsync("p17", "N");
        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        JsonObject Entry(string url, string resource) => new()
        {
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = url },
            ["resource"] = JsonNode.Parse(resource),
        };
        var bundle = new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["type"] = "batch",
            ["entry"] = new JsonArray(
                Entry($"Observation/{id}/$meta-add", MetaParameters("R")),
                Entry("Observation/obs-18-1/$meta-add", MetaParameters("R")),
                Entry("Patient/p17/$everything", ParametersOf()),
                Entry("Observation/$validate", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resource\",\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"v\"},\"subject\":{\"reference\":\"Patient/p18\"}}}]}"),
                Entry("$graphql", ParametersOf())),
        };

        using var response = await SendAsync(HttpMethod.Post, "", token, bundle.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = (await response.JsonAsync())["entry"]!.AsArray();
        Assert.Equal(["200", "403", "200", "403", "400"], entries.Select(e => e!["response"]!["status"]!.GetValue<string>().Split(' ')[0]));
        Assert.Equal(["N", "R"], await StoredLabelsAsync("Observation/" + id));
        Assert.DoesNotContain("R", await StoredLabelsAsync("Observation/obs-18-1"));
        Assert.All(Subjects(entries[2]!["resource"]!.AsObject()), s => Assert.Equal("Patient/p17", s));
    }
}
