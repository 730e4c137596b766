using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>Reads and searches through a real gateway to the real FHIR server (seed: deploy/fhir-server/seed.js).</summary>
[Collection(HearthCollection.Name)]
public class ReadAuthorizationTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    [Fact]
    public async Task Read_Permitted_200ResourceWithRewrittenContentLocation()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var response = await Client.GetWithTokenAsync("Observation/obs-03-1", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("obs-03-1", body["id"]!.GetValue<string>());
        Assert.Equal(env.Gateway.BaseUrl + "/Observation/obs-03-1", response.Content.Headers.ContentLocation?.ToString());
    }

    private static readonly string DenyR = Permission("10006", "*") + "," + Permission("*", "*", labels: Labels("R"), deny: true);

    /// <summary>Reads by id: name, the token's permissions, the path, the status the token gets.</summary>
    public static TheoryData<string, string, string, HttpStatusCode> Reads => new()
    {
        // p07 lists urn:mrn:hospital|MRN-007 first, urn:official:id|10007 second; DESIGNATED_PATIENT_ID_SYSTEMS=urn:official:id.
        { "the designated system names the patient", Permission("10007"), "Observation/obs-07-1", HttpStatusCode.OK },
        { "the first identifier does not, when another is designated", Permission("MRN-007", system: "urn:mrn:hospital"), "Observation/obs-07-1", HttpStatusCode.Forbidden },
        { "without a designated one, the first identifier names it (p19: an MRN only)", Permission("MRN-019", system: "urn:mrn:hospital"), "Observation/obs-19-1", HttpStatusCode.OK },
        { "outside the compartment: a named patient's grant does not reach it", Permission("10001"), "Observation/obs-group", HttpStatusCode.Forbidden },
        { "outside the compartment: the wildcard patient's does", Permission("*", "Observation"), "Observation/obs-group", HttpStatusCode.OK },
        { "a denied label, read by id", DenyR, "Observation/obs-06-2", HttpStatusCode.Forbidden },
        { "a patient without identifiers: denied even to the wildcard", Permission("*"), "Observation/obs-20-1", HttpStatusCode.Forbidden },
        { "a Patient on another server: denied even to the wildcard", Permission("*"), "Observation/obs-foreign", HttpStatusCode.Forbidden },
        { "a Patient without identifiers itself", Permission("*"), "Patient/p20", HttpStatusCode.Forbidden },

        // obs-03-2 is labelled R; a subsetted copy could lack meta.security: Hearth judges the whole resource.
        { "_summary=true cannot hide the label that denies", Permission("10003", "Observation", labels: Labels("N", "M")), "Observation/obs-03-2?_summary=true", HttpStatusCode.Forbidden },
        { "_elements cannot hide it", Permission("10003", "Observation", labels: Labels("N", "M")), "Observation/obs-03-2?_elements=valueQuantity", HttpStatusCode.Forbidden },
        { "_summary=data cannot hide it", Permission("10003", "Observation", labels: Labels("N", "M")), "Observation/obs-03-2?_summary=data", HttpStatusCode.Forbidden },
        { "_summary=false is allowed", Permission("10003", "Observation", labels: Labels("N")), "Observation/obs-03-1?_summary=false", HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Reads))]
    public async Task Read(string name, string permissions, string path, HttpStatusCode expected)
    {
        var token = await env.TokenAsync("[" + permissions + "]");
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.True(expected == response.StatusCode, $"{name}: expected {expected}, got {response.StatusCode}");
    }

    /// <summary>Searches: name, the token's permissions, the query, the ids the token gets (in order), its total (null: none).</summary>
    public static TheoryData<string, string, string, string[], int?> Searches => new()
    {
        // p03 has obs-03-1 (N), obs-03-2 (R) and obs-03-3 (unlabelled: default M).
        { "some permitted: redacted, total dropped", Permission("10003", "Observation", labels: Labels("N")), "Observation?subject=Patient/p03", ["obs-03-1"], null },
        { "a wider label grant keeps more", Permission("10003", "Observation", labels: Labels("N", "M")), "Observation?subject=Patient/p03", ["obs-03-1", "obs-03-3"], null },
        { "none permitted: as if nothing had matched", Permission("10003", "Observation", labels: Labels("N")), "Observation?subject=Patient/p04", [], null },
        { "all permitted: total kept", Permission("10005", "Condition"), "Condition?subject=Patient/p05", ["cond-05"], 1 },
        { "a deny label removes only those entries (obs-06-2 is R)", DenyR, "Observation?subject=Patient/p06", ["obs-06-1", "obs-06-3"], null },
        { "a system-wide search is redacted to what the token may see", Permission("10010", "Condition"), "Condition", ["cond-10"], null },
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task Search(string name, string permissions, string path, string[] expected, int? total)
    {
        var token = await env.TokenAsync("[" + permissions + "]");
        using var response = await Client.GetWithTokenAsync(path, token);
        if (expected.Length == 0)
        {
            await response.AssertEmptySearchAsync();
            return;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.True(expected.SequenceEqual(bundle.EntryIds().Order()), $"{name}: got {string.Join(",", bundle.EntryIds())}");
        Assert.Equal(total, bundle["total"]?.GetValue<int>());
    }

    [Theory]
    [InlineData("Observation/obs-03-2")] // labelled R; the token has N only
    [InlineData("Observation/obs-04-1")] // another patient
    [InlineData("Specimen/spec-03")] // another resource type... and R
    [InlineData("Patient/p03")] // the token covers Observation only
    public async Task Read_NotGranted_403InsufficientScope(string path)
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", response.Challenge(), StringComparison.Ordinal);
        var diagnostics = await response.AssertOutcomeAsync("forbidden");
        Assert.DoesNotContain("obs-", diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_DesignatedPriorityIsConfigurable()
    {
        await using var gateway = await env.StartGatewayAsync(("DESIGNATED_PATIENT_ID_SYSTEMS", "urn:mrn:hospital,urn:official:id"));
        var mrn = await env.TokenAsync("[" + Permission("MRN-007", system: "urn:mrn:hospital") + "]");
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p07", mrn);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnprotectedType_NoTokenNeeded()
    {
        using var read = await Client.GetAsync("Organization/org-1");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("Example Hospital", (await read.JsonAsync())["name"]!.GetValue<string>());

        using var search = await Client.GetAsync("Organization");
        Assert.Equal(["org-1"], (await search.JsonAsync()).EntryIds());
    }

    [Fact]
    public async Task UnprotectedType_IncludedProtectedResources_Removed()
    {
        // _revinclude pulls Observations into an Organization search: they are judged with no permissions.
        using var response = await Client.GetAsync("Group?_revinclude=Observation:subject");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode); // Group is protected: token needed

        using var org = await Client.GetAsync("Organization?_id=org-1&_revinclude=Patient:organization");
        Assert.Equal(HttpStatusCode.OK, org.StatusCode);
        Assert.All((await org.JsonAsync())["entry"]!.AsArray(), e => Assert.Equal("Organization", e!["resource"]!["resourceType"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Metadata_NoToken_200WithGatewayUrls()
    {
        using var response = await Client.GetAsync("metadata");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("CapabilityStatement", JsonNode.Parse(text)!["resourceType"]!.GetValue<string>());
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
        Assert.Contains(env.Gateway.BaseUrl, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_LinksAndFullUrls_PointAtGateway_NextPageReauthorized()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation") + "]");
        using var response = await Client.GetWithTokenAsync("Observation?_count=5", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
        var bundle = JsonNode.Parse(text)!.AsObject();
        Assert.All(bundle["entry"]!.AsArray(), e => Assert.StartsWith(env.Gateway.BaseUrl + "/Observation/", e!["fullUrl"]!.GetValue<string>(), StringComparison.Ordinal));
        var next = bundle["link"]!.AsArray().Single(l => l!["relation"]!.GetValue<string>() == "next")!["url"]!.GetValue<string>();
        Assert.StartsWith(env.Gateway.BaseUrl + "/Observation?", next, StringComparison.Ordinal);
        Assert.Null(bundle["total"]); // more pages exist: the total is not vouched for

        using var page2 = await Client.GetWithTokenAsync(next, token);
        Assert.Equal(HttpStatusCode.OK, page2.StatusCode);
        Assert.Equal(5, (await page2.JsonAsync()).EntryIds().Count);

        var patientOnly = await env.TokenAsync("[" + Permission("10001", "Patient") + "]");
        using var page2Other = await Client.GetWithTokenAsync(next, patientOnly);
        await page2Other.AssertEmptySearchAsync(); // re-authorized: nothing of it for this token
    }

    [Fact]
    public async Task History_And_VRead_Filtered()
    {
        var token = await env.TokenAsync("[" + Permission("10008") + "]");
        using var history = await Client.GetWithTokenAsync("Patient/p08/_history", token);
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        var versionId = (await history.JsonAsync())["entry"]![0]!["resource"]!["meta"]!["versionId"]!.GetValue<string>();

        using var vread = await Client.GetWithTokenAsync($"Patient/p08/_history/{versionId}", token);
        Assert.Equal(HttpStatusCode.OK, vread.StatusCode);

        var other = await env.TokenAsync("[" + Permission("10009") + "]");
        using var deniedHistory = await Client.GetWithTokenAsync("Patient/p08/_history", other);
        await deniedHistory.AssertEmptySearchAsync();
    }

    [Theory]
    [InlineData("POST", "Patient/p01/$purge")]
    [InlineData("OPTIONS", "Patient/p01")]
    public async Task NotSupported_403NothingForwarded(string method, string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "OPTIONS" ? null : new StringContent("{\"resourceType\":\"Patient\",\"id\":\"p01\"}", System.Text.Encoding.UTF8, "application/fhir+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await response.AssertOutcomeAsync("not-supported");

        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("Patient/p01/..%2FObservation", "invalid")]
    [InlineData("Patient//p01", "invalid")]
    [InlineData("Patient%2Fp01", "invalid")]
    [InlineData("patient/p01", "not-supported")]
    [InlineData("NoSuchType/1", "not-supported")]
    [InlineData("Patient/p01/_history/1/more", "not-supported")]
    public async Task Unclassifiable_400NothingForwarded(string path, string issueCode)
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync(issueCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("Observation?_summary=count")]
    [InlineData("Observation?_summary=bogus")]
    [InlineData("Observation?_elements=subject&_summary=true")]
    [InlineData("Observation?_elements=sub.ject")]
    public async Task SubsettingHearthCannotHonour_400_NothingForwarded(string path)
    {
        // _summary=count would reveal how many resources exist that the token may not see.
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N", "M")) + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("not-supported");
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Elements_AppliedAfterJudging_Subsetted()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N", "M")) + "]");
        using var response = await Client.GetWithTokenAsync("Observation?subject=Patient/p03&_elements=status", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal(["obs-03-1", "obs-03-3"], bundle.EntryIds().Order().ToList()); // R still removed
        foreach (var entry in bundle["entry"]!.AsArray())
        {
            var resource = entry!["resource"]!.AsObject();
            Assert.Equal("final", resource["status"]!.GetValue<string>());
            Assert.Null(resource["valueQuantity"]);
            Assert.Contains(resource["meta"]!["tag"]!.AsArray(), t => t!["code"]!.GetValue<string>() == "SUBSETTED");
        }
    }

    [Fact]
    public async Task Summary_AppliedAfterJudging()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var response = await Client.GetWithTokenAsync("Observation/obs-03-1?_summary=text", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var resource = await response.JsonAsync();
        Assert.Null(resource["valueQuantity"]);
        Assert.Contains(resource["meta"]!["tag"]!.AsArray(), t => t!["code"]!.GetValue<string>() == "SUBSETTED");
    }

    [Theory]
    [InlineData("X-HTTP-Method-Override", "DELETE")]
    [InlineData("X-HTTP-Method", "PUT")]
    [InlineData("X-Method-Override", "PATCH")]
    public async Task MethodOverrideHeader_400NothingForwarded(string header, string method)
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/p01");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation(header, method);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("security");
        Assert.Equal(before, await env.FhirTotalCountAsync());

        using var query = await Client.GetWithTokenAsync("Patient/p01?_method=DELETE", token);
        Assert.Equal(HttpStatusCode.BadRequest, query.StatusCode);
    }

    [Theory]
    [InlineData("text/turtle", null)]
    [InlineData(null, "ttl")]
    [InlineData("text/html", null)]
    public async Task FormatHearthCannotProduce_406(string? accept, string? format)
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/p01" + (format is null ? "" : "?_format=" + format));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        await response.AssertOutcomeAsync("not-supported");
    }

    [Fact]
    public async Task FhirServerUnreachable_502Outcome()
    {
        await using var gateway = await env.StartGatewayAsync(("FHIR_SERVER_BASE", $"http://127.0.0.1:{GatewayInstance.FreePort()}/fhir"));
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p01", token);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await response.AssertOutcomeAsync("transient");
    }

    /// <summary>
    /// The FHIR server's Content-Encoding is read as sent: any coding but identity (in a list too)
    /// is refused even when the body is plain JSON (Hearth judges only what it can read as sent);
    /// identity alone is no coding.
    /// </summary>
    [Theory]
    [InlineData("identity", HttpStatusCode.OK)]
    [InlineData("IDENTITY", HttpStatusCode.OK)]
    [InlineData("br", HttpStatusCode.BadGateway)]
    [InlineData("identity, br", HttpStatusCode.BadGateway)]
    [InlineData("identity,gzip", HttpStatusCode.BadGateway)]
    public async Task FhirServerLabelsItsBody_OnlyIdentityServed(string coding, HttpStatusCode expected)
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        await env.FhirFaultAsync("labelled:" + coding);
        using var response = await Client.GetWithTokenAsync("Patient/p01", token);
        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(expected == HttpStatusCode.OK, text.Contains("10001", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("html")]
    [InlineData("malformed")]
    [InlineData("gzip")]
    [InlineData("truncate")]
    public async Task FhirServerMisbehaves_502NoUpstreamBytes(string mode)
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        await env.FhirFaultAsync(mode);
        using var response = await Client.GetWithTokenAsync("Patient/p01", token);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Internal page", text, StringComparison.Ordinal);
        Assert.DoesNotContain("10001", text, StringComparison.Ordinal);
        Assert.False(response.Content.Headers.ContentEncoding.Count > 0);

        // The next answer is sound again, and Hearth is unharmed.
        using var after = await Client.GetWithTokenAsync("Patient/p01", token);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task FhirServerNotFound_OutcomePassedWithGatewayUrls()
    {
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using var response = await Client.GetWithTokenAsync("Patient/does-not-exist", token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("OperationOutcome", JsonNode.Parse(text)!["resourceType"]!.GetValue<string>());
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
    }
}
