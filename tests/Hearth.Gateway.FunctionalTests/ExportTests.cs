using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Bulk Data <c>$export</c> through a real gateway to the dev FHIR server's export (built on
/// Medplum searches): the kick-off's permission check and <c>_typeFilter</c>s (asserted on the
/// searches the FHIR server ran), status and files at the gateway for the starting token only,
/// and every line of a file judged.
/// </summary>
[Collection(HearthCollection.Name)]
public class ExportTests(HearthEnvironment env)
{
    private static readonly string ConfToken = Uri.EscapeDataString(Conf + "|");

    private HttpClient Client => env.Gateway.Client;

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, bool preferAsync = true)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (preferAsync)
        {
            request.Headers.Add("Prefer", "respond-async");
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        return await Client.SendAsync(request);
    }

    /// <summary>Starts an export; returns the gateway status URL and the searches the FHIR server ran for it.</summary>
    private async Task<(string Status, List<string> Searches)> StartAsync(string token, string query)
    {
        var before = (await env.Fhir.ExportsAsync()).Count;
        using var response = await SendAsync(HttpMethod.Get, "$export" + query, token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var status = response.Content.Headers.ContentLocation?.ToString() ?? response.Headers.GetValues("Content-Location").Single();
        Assert.StartsWith(env.Gateway.BaseUrl + "/_hearth/export/", status, StringComparison.Ordinal);
        var jobs = await env.Fhir.ExportsAsync();
        Assert.Equal(before + 1, jobs.Count);
        return (status, jobs[^1]!["searches"]!.AsArray().Select(s => s!.GetValue<string>()).ToList());
    }

    /// <summary>Polls until the manifest comes (the dev server answers 202 first).</summary>
    private async Task<JsonObject> ManifestAsync(string status, string token)
    {
        using (var first = await SendAsync(HttpMethod.Get, status, token, preferAsync: false))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal("exporting", first.Headers.GetValues("X-Progress").Single());
        }

        using var done = await SendAsync(HttpMethod.Get, status, token, preferAsync: false);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("application/json", done.Content.Headers.ContentType?.MediaType);
        var text = await done.Content.ReadAsStringAsync();
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<List<JsonObject>> DownloadAsync(string url, string token)
    {
        using var response = await SendAsync(HttpMethod.Get, url, token, preferAsync: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private static string Label(JsonObject resource) => resource["meta"]?["security"]?[0]?["code"]?.GetValue<string>() ?? "";

    [Fact]
    public async Task Export_Granted_DeniedLabelBecomesATypeFilter_StatusAndFilesAtTheGateway_LinesJudged()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + ","
            + Permission("*", "Observation", "bulk-export", Labels("R"), deny: true) + "]");
        var (status, searches) = await StartAsync(token, "?_type=Observation");
        Assert.Equal(["/Observation?_count=1000&_security:not=" + ConfToken + "R"], searches);

        var manifest = await ManifestAsync(status, token);
        Assert.True(manifest["requiresAccessToken"]!.GetValue<bool>());
        Assert.StartsWith(env.Gateway.BaseUrl + "/$export", manifest["request"]!.GetValue<string>(), StringComparison.Ordinal);
        var url = manifest["output"]!.AsArray().Single()!["url"]!.GetValue<string>();
        Assert.Equal(status + "/file/0", url);

        var lines = await DownloadAsync(url, token);
        var ids = lines.Select(l => l["id"]!.GetValue<string>()).ToList();
        Assert.Contains("obs-01-1", ids);
        Assert.Contains("obs-group", ids); // outside the compartment: patient "*" grants it
        Assert.DoesNotContain("obs-foreign", ids); // its patient is on another server: judged, denied
        Assert.All(lines, l => Assert.NotEqual("R", Label(l)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Export_LabelGrants_OneFilterPerLabel_AndTheClientsFilterCannotWiden()
    {
        var token = await env.TokenAsync("[" + Permission("*", "[\"Observation\",\"Condition\"]", "bulk-export", Labels("N", "M")) + "]");
        var clientFilter = Uri.EscapeDataString("Observation?subject=Patient/p03");
        var (status, searches) = await StartAsync(token, "?_type=Observation,Condition&_typeFilter=" + clientFilter);
        Assert.Equal(
            [
                "/Observation?_count=1000&subject=Patient/p03&_security=" + ConfToken + "N",
                "/Observation?_count=1000&subject=Patient/p03&_security=" + ConfToken + "M",
                "/Condition?_count=1000&_security=" + ConfToken + "N",
                "/Condition?_count=1000&_security=" + ConfToken + "M",
            ],
            searches);

        var manifest = await ManifestAsync(status, token);
        var files = manifest["output"]!.AsArray().ToDictionary(o => o!["type"]!.GetValue<string>(), o => o!["url"]!.GetValue<string>());
        var observations = await DownloadAsync(files["Observation"], token);
        Assert.Equal(["obs-03-1"], observations.Select(o => o["id"]!.GetValue<string>())); // obs-03-2 is R, obs-03-3 unlabelled
    }

    [Fact]
    public async Task Export_DeniedPatient_ItsLinesLeftOutAtDownload()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + "," + Permission("10001", "*", "bulk-export", deny: true) + "]");
        var (status, searches) = await StartAsync(token, "?_type=Observation");
        Assert.Equal(["/Observation?_count=1000"], searches); // a patient cannot be excluded by a filter
        var manifest = await ManifestAsync(status, token);
        var lines = await DownloadAsync(manifest["output"]![0]!["url"]!.GetValue<string>(), token);
        Assert.Contains(lines, l => l["id"]!.GetValue<string>() == "obs-02-1");
        Assert.DoesNotContain(lines, l => l["subject"]?["reference"]?.GetValue<string>() == "Patient/p01");
    }

    public static TheoryData<string, string> Refused => new()
    {
        { "[" + Permission("*", "Observation") + "]", "?_type=Observation" },                                     // read is not bulk-export
        { "[" + Permission("10001", "Observation", "bulk-export") + "]", "?_type=Observation" },                   // one patient is not "*"
        { "[" + Permission("*", "Observation", "bulk-export") + "]", "?_type=Observation,Condition" },            // a type not granted
        { "[" + Permission("*", "Observation", "bulk-export") + "]", "" },                                        // every type
        { "[" + Permission("*", "*", "bulk-export") + "," + Permission("*", "Observation", "bulk-export", deny: true) + "]", "?_type=Observation" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Export_NotGranted_403_NothingStarted(string permissions, string query)
    {
        var token = await env.TokenAsync(permissions);
        var before = (await env.Fhir.ExportsAsync()).Count;
        using var response = await SendAsync(HttpMethod.Get, "$export" + query, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await response.AssertOutcomeAsync("forbidden");
        Assert.Equal(before, (await env.Fhir.ExportsAsync()).Count);
    }

    [Theory]
    [InlineData("?_type=Observation", false, "Prefer")]
    [InlineData("?_type=Nonsense", true, "Nonsense")]
    [InlineData("?_type=Observation&_typeFilter=status%3Dfinal", true, "_typeFilter")]
    public async Task Export_BadKickOff_400_NothingStarted(string query, bool preferAsync, string named)
    {
        var token = await env.TokenAsync("[" + Permission("*", "*", "bulk-export") + "]");
        var before = (await env.Fhir.ExportsAsync()).Count;
        using var response = await SendAsync(HttpMethod.Get, "$export" + query, token, preferAsync);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, await response.AssertOutcomeAsync("invalid"), StringComparison.Ordinal);
        Assert.Equal(before, (await env.Fhir.ExportsAsync()).Count);
    }

    [Fact]
    public async Task Export_OnlyTheStartingToken_MayPollDownloadOrCancel()
    {
        const string permissions = "[{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"*\",\"securityLabel\":\"*\"},\"scopes\":[\"bulk-export\",\"read\"]}]";
        var owner = await env.TokenAsync(permissions);
        var other = await env.TokenAsync(permissions);
        var (status, _) = await StartAsync(owner, "?_type=Condition");
        var manifest = await ManifestAsync(status, owner);
        var file = manifest["output"]![0]!["url"]!.GetValue<string>();

        foreach (var (method, url) in new[] { (HttpMethod.Get, status), (HttpMethod.Get, file), (HttpMethod.Delete, status) })
        {
            using var response = await SendAsync(method, url, other, preferAsync: false);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            await response.AssertOutcomeAsync("not-found");
        }

        using (var noToken = await SendAsync(HttpMethod.Get, file, null, preferAsync: false))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        }

        Assert.NotEmpty(await DownloadAsync(file, owner)); // still the owner's

        using (var cancel = await SendAsync(HttpMethod.Delete, status, owner, preferAsync: false))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        using var gone = await SendAsync(HttpMethod.Get, status, owner, preferAsync: false);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Export_ManifestLooksTheSameWhetherHiddenLinesExistedOrNot()
    {
        // A guess about a denied patient's diagnoses: the FHIR server writes a file only when it is right.
        var token = await env.TokenAsync("[" + Permission("*", "*", "bulk-export") + "," + Permission("10002", "*", "bulk-export", deny: true) + "]");
        var manifests = new List<string>();
        foreach (var guess in new[] { "Hypertension", "Asthma" })
        {
            var filter = Uri.EscapeDataString("Condition?subject=Patient/p02&code:text=" + guess);
            var (status, _) = await StartAsync(token, "?_type=Condition&_typeFilter=" + filter);
            var serverFiles = (await env.Fhir.ExportsAsync())[^1]!["files"]!.AsArray().Count;
            Assert.Equal(guess == "Hypertension" ? 1 : 0, serverFiles); // the server's answer differs...
            var manifest = await ManifestAsync(status, token);
            manifest.Remove("transactionTime");
            manifest.Remove("request");
            manifests.Add(manifest.ToJsonString());
        }

        Assert.Equal(manifests[0], manifests[1]); // ...Hearth's does not
        Assert.Equal("{\"requiresAccessToken\":true,\"output\":[],\"error\":[]}", manifests[0]);
    }

    [Fact]
    public async Task Export_ManifestCounts_AreHearths_NothingElseOfTheServers()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + "," + Permission("10001", "*", "bulk-export", deny: true) + "]");
        var (status, _) = await StartAsync(token, "?_type=Observation");
        var serverCount = (await env.Fhir.ExportsAsync())[^1]!["files"]![0]!["count"]!.GetValue<int>();
        var manifest = await ManifestAsync(status, token);
        Assert.Null(manifest["extension"]);
        var file = manifest["output"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["type", "url", "count"], file.Select(p => p.Key));
        var lines = await DownloadAsync(file["url"]!.GetValue<string>(), token);
        Assert.Equal(lines.Count, file["count"]!.GetValue<int>());
        Assert.True(serverCount > lines.Count, "p01's lines are hidden, so the server's count is higher");

        // Polled again: the same manifest, from the export grain, without asking the FHIR server.
        var before = await env.FhirTotalCountAsync();
        using var again = await SendAsync(HttpMethod.Get, status, token, preferAsync: false);
        Assert.Equal(manifest.ToJsonString(), (await again.JsonAsync()).ToJsonString());
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("*", 1)]
    [InlineData("Observation", 0)] // an error file is judged like any other: its OperationOutcomes need a grant too
    public async Task Export_ErrorFiles_JudgedTheSameWay(string grantedType, int errorFiles)
    {
        var token = await env.TokenAsync("[" + Permission("*", grantedType, "bulk-export") + "]");
        var (status, _) = await StartAsync(token, "?_type=Observation&_typeFilter=" + Uri.EscapeDataString("Observation?nonsense=1"));
        var manifest = await ManifestAsync(status, token);
        var errors = manifest["error"]!.AsArray();
        Assert.Equal(errorFiles, errors.Count);
        if (errorFiles > 0)
        {
            Assert.Equal(1, errors[0]!["count"]!.GetValue<int>());
            var lines = await DownloadAsync(errors[0]!["url"]!.GetValue<string>(), token);
            Assert.Equal("OperationOutcome", lines.Single()["resourceType"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("_hearth/export/AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("_hearth/export/AAAAAAAAAAAAAAAAAAAAAA/file/0")]
    public async Task Export_UnknownId_404(string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", "*", "bulk-export") + "]");
        using var response = await SendAsync(HttpMethod.Get, path, token, preferAsync: false);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
