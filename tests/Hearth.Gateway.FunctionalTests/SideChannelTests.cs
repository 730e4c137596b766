using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;
using Task = System.Threading.Tasks.Task;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// What a search tells a narrow token besides the resources it may read: whether anything matched
/// (403 versus an empty answer), what its criteria found in resources it may not read (chains,
/// _has, _filter), and how many matches there are (paging links). And paging through a page whose
/// entries were all removed, with a real FHIR client.
/// </summary>
[Collection(HearthCollection.Name)]
public class SideChannelTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private Task<string> Patient1Async() => env.TokenAsync("[" + Permission("10001") + "]");

    private static string Strip(JsonObject bundle)
    {
        bundle.Remove("link"); // the self link echoes the query
        return bundle.ToJsonString();
    }

    [Theory]
    [InlineData("Patient?identifier=urn:official:id|10002", "Patient?identifier=urn:official:id|99999")] // is this person a patient here?
    [InlineData("Patient?family=Example02", "Patient?family=Nobody")]
    [InlineData("Observation?subject=Patient/p02&code=8867-4", "Observation?subject=Patient/p02&code=99999-9")] // which codes does patient 2 have?
    [InlineData("Patient/p02/Observation?code=8867-4", "Patient/p02/Observation?code=99999-9")]
    [InlineData("Patient/p02/_history", "Patient/nobody-at-all/_history")]
    public async Task OAuth_HiddenMatches_LookLikeNoMatches(string hiddenMatches, string noMatches)
    {
        var token = await Patient1Async();
        using var hidden = await Client.GetWithTokenAsync(hiddenMatches, token);
        using var none = await Client.GetWithTokenAsync(noMatches, token);
        var a = await hidden.AssertEmptySearchAsync();
        if (none.StatusCode == HttpStatusCode.NotFound)
        {
            // The FHIR server's own answer for an instance that does not exist (history of nobody) passes;
            // the point is that hidden matches are not a 403.
            return;
        }

        var b = await none.AssertEmptySearchAsync();
        Assert.Equal(Strip(b), Strip(a));
    }

    [Fact]
    public async Task ReadById_StillRefused()
    {
        using var response = await Client.GetWithTokenAsync("Patient/p02", await Patient1Async());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task SearchAllRemovedForbidden_403()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_SEARCH_ALL_REMOVED", "forbidden"));
        using var response = await gateway.Client.GetWithTokenAsync("Patient?identifier=urn:official:id|10002", await Patient1Async());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await response.AssertOutcomeAsync("forbidden");
    }

    [Fact]
    public async Task UmaMode_HiddenMatches_403WithTicket_ByDefault()
    {
        await using var gateway = await env.StartGatewayAsync(("UMA_MODE", "true"));
        using var response = await gateway.Client.GetWithTokenAsync("Patient?identifier=urn:official:id|10002", await Patient1Async());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("ticket=", response.Challenge(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Criteria => new()
    {
        { "Observation?subject=Patient/p01&subject:Patient.family=Example01", "subject:Patient.family" },
        { "Observation?subject.name=Example01", "subject.name" },
        { "Observation?patient.identifier=urn:official:id|10002", "patient.identifier" },
        { "Patient?_has:Observation:patient:code=8867-4", "_has:Observation:patient:code" },
        { "Observation?_filter=code eq 8867-4", "_filter" },
        { "Observation?_list=some-list", "_list" },
        { "Observation?_query=current-high-risk", "_query" },
        { "Observation?_contained=true", "_contained" },
        { "Observation?_containedType=contained", "_containedType" },
        { "Observation?subject=Patient/p01&_sort=-subject:Patient.family", "subject:Patient.family" }, // the order would tell
    };

    [Theory]
    [MemberData(nameof(Criteria))]
    public async Task Criteria_OverResourcesTheTokenMayNotAllRead_403NamingTheParameter_NothingForwarded(string path, string parameter)
    {
        // Patient 1's Patient and Observations: every criterion above looks at more than that.
        var token = await env.TokenAsync("[" + Permission("10001", "[\"Patient\",\"Observation\"]") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("insufficient_scope", response.Challenge(), StringComparison.Ordinal);
        Assert.Contains("'" + parameter + "'", await response.AssertOutcomeAsync("forbidden"), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Criteria_InAPostSearchForm_AndABatchSearchEntry_RefusedToo()
    {
        var token = await env.TokenAsync("[" + Permission("10001", "Observation") + "]");
        var before = await env.FhirTotalCountAsync();
        using (var form = await Client.SendAsync("POST", "Observation/_search", token, "subject=Patient/p01&subject:Patient.family=Example01", "application/x-www-form-urlencoded"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, form.StatusCode);
        }

        using var batch = await Client.PostBundleAsync("batch", token, new JsonObject
        {
            ["request"] = new JsonObject { ["method"] = "GET", ["url"] = "Observation?subject=Patient/p01&subject:Patient.family=Example01" },
        });
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var entry = (await batch.JsonAsync())["entry"]![0]!["response"]!;
        Assert.StartsWith("403", entry["status"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("subject:Patient.family", entry["outcome"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Control_AChainTheTokenMayFollow_Works()
    {
        // Every Patient may be read: the chain evaluates nothing hidden.
        var token = await env.TokenAsync("[" + Permission("10001", "Observation") + "," + Permission("*", "Patient") + "]");
        using var match = await Client.GetWithTokenAsync("Observation?subject=Patient/p01&subject:Patient.family=Example01&_count=100", token);
        Assert.Equal(HttpStatusCode.OK, match.StatusCode);
        Assert.Contains("obs-01-1", (await match.JsonAsync()).EntryIds());
        using var miss = await Client.GetWithTokenAsync("Observation?subject=Patient/p01&subject:Patient.family=Nobody", token);
        await miss.AssertEmptySearchAsync();
    }

    [Fact]
    public async Task Control_HasWithAnUnrestrictedGrant_Forwarded()
    {
        var token = await env.TokenAsync("[" + Permission("10001", "Patient") + "," + Permission("*", "Observation") + "]");
        var before = await env.FhirCountAsync("GET Patient search");
        using var response = await Client.GetWithTokenAsync("Patient?_has:Observation:patient:code=8867-4", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, await env.FhirCountAsync("GET Patient search"));
    }

    [Fact]
    public async Task Control_TheTokensOwnPatient_Searched()
    {
        using var response = await Client.GetWithTokenAsync("Observation?subject=Patient/p01&code=8867-4", await Patient1Async());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("obs-01-1", (await response.JsonAsync()).EntryIds());
    }

    [Fact]
    public async Task PagingLinks_DoNotCountHiddenMatches()
    {
        var token = await Patient1Async();
        using var page1 = await Client.GetWithTokenAsync("Observation?_id=obs-01-1,obs-02-1,obs-03-1&_count=1", token);
        Assert.Equal(HttpStatusCode.OK, page1.StatusCode);
        var bundle = await page1.JsonAsync();
        Assert.Equal(["obs-01-1"], bundle.EntryIds());
        var relations = bundle["link"]!.AsArray().Select(l => l!["relation"]!.GetValue<string>()).ToList();
        Assert.DoesNotContain("last", relations); // the FHIR server's last link (at _offset=2) counted 3 matches
        Assert.Contains("next", relations);
        Assert.Null(bundle["total"]);

        using var other = await Client.GetWithTokenAsync("Observation?code=8867-4&subject=Patient/p02&_count=1", token);
        var empty = await other.AssertEmptySearchAsync();
        Assert.DoesNotContain(empty["link"]!.AsArray(), l => l!["relation"]!.GetValue<string>() == "last");
    }

    [Fact]
    public async Task PagingWithAFhirClient_ThroughAPageWhoseEntriesWereAllRemoved_ReachesTheLastPage()
    {
        // Every Observation may be read, but those of p20 (no identifier: unresolvable) and of a
        // foreign patient are removed; with _count=3 the FHIR server's page 20 holds p20's three only.
        var token = await env.TokenAsync("[" + Permission("*", "Observation") + "]");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var client = new FhirClient(env.Gateway.BaseUrl, http, new FhirClientSettings { PreferredFormat = ResourceFormat.Json, VerifyFhirVersion = false });

        var ids = new List<string>();
        var pages = 0;
        var emptyPages = 0;
        var page = await client.SearchAsync("Observation", pageSize: 3);
        while (page is not null && pages < 200)
        {
            pages++;
            emptyPages += page.Entry.Count == 0 ? 1 : 0;
            ids.AddRange(page.Entry.Select(e => e.Resource!.Id!));
            page = await client.ContinueAsync(page);
        }

        Assert.True(emptyPages >= 1, "a page whose entries were all removed");
        Assert.True(pages >= 21, $"{pages} pages");
        Assert.Contains("obs-19-3", ids);
        Assert.Contains("obs-group", ids); // after the hidden page
        Assert.DoesNotContain(ids, i => i.StartsWith("obs-20-", StringComparison.Ordinal) || i == "obs-foreign");
    }
}
