using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>Attacks on the read side and request hygiene, each through a real gateway to the real FHIR server.</summary>
[Collection(HearthCollection.Name)]
public class SearchAndHygieneTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private Task<string> Patient03TokenAsync() => env.TokenAsync("[" + Permission("10003", "[\"Patient\",\"Observation\"]", labels: Labels("N")) + "]");

    private async Task<HttpResponseMessage> PostSearchAsync(string path, string form, string? token, string contentType = "application/x-www-form-urlencoded")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(form, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task PostSearch_ReadsAnything_Stopped_FilteredLikeGet()
    {
        var token = await Patient03TokenAsync();
        using var response = await PostSearchAsync("Observation/_search", "subject=Patient/p03&_count=2", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal(["obs-03-1"], bundle.EntryIds()); // obs-03-2 is R and removed
        Assert.Null(bundle["total"]);
        var next = bundle["link"]!.AsArray().Single(l => l!["relation"]!.GetValue<string>() == "next")!["url"]!.GetValue<string>();
        Assert.StartsWith(env.Gateway.BaseUrl + "/Observation?", next, StringComparison.Ordinal);

        // Page 2 holds only obs-03-3 (unlabelled: M), which this token may not see: re-authorized, removed.
        using var page2 = await Client.GetWithTokenAsync(next, token);
        await page2.AssertEmptySearchAsync();
        var wider = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N", "M")) + "]");
        using var page2Wider = await Client.GetWithTokenAsync(next, wider);
        Assert.Equal(["obs-03-3"], (await page2Wider.JsonAsync()).EntryIds());
    }

    [Fact]
    public async Task PostSearch_ElementsInForm_NotSentUpstream_AppliedAfterJudging()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N", "M")) + "]");
        using var response = await PostSearchAsync("Observation/_search", "subject=Patient/p03&_elements=status", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal(["obs-03-1", "obs-03-3"], bundle.EntryIds().Order().ToList());
        Assert.All(bundle["entry"]!.AsArray(), e => Assert.Null(e!["resource"]!["valueQuantity"]));
    }

    [Fact]
    public async Task PostSearch_OtherPatientsData_Removed()
    {
        var token = await Patient03TokenAsync();
        using var response = await PostSearchAsync("Observation/_search", "subject=Patient/p04", token);
        await response.AssertEmptySearchAsync();
    }

    [Theory]
    [InlineData("subject=Patient/p03&_summary=count", "application/x-www-form-urlencoded", HttpStatusCode.BadRequest)]
    [InlineData("subject=Patient/p03&_method=DELETE", "application/x-www-form-urlencoded", HttpStatusCode.BadRequest)]
    [InlineData("subject=Patient/p03&_format=xml", "application/x-www-form-urlencoded", HttpStatusCode.BadRequest)]
    [InlineData("{\"subject\":\"Patient/p03\"}", "application/json", HttpStatusCode.UnsupportedMediaType)]
    public async Task PostSearch_SmuggledParameters_RefusedNothingForwarded(string form, string contentType, HttpStatusCode status)
    {
        var token = await Patient03TokenAsync();
        var before = await env.FhirTotalCountAsync();
        using var response = await PostSearchAsync("Observation/_search", form, token, contentType);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task PostSearch_TokenInForm_Refused()
    {
        var token = await Patient03TokenAsync();
        var before = await env.FhirTotalCountAsync();
        using var response = await PostSearchAsync("Observation/_search", "subject=Patient/p03&access_token=" + token, null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Include_OtherPatientsResources_Removed()
    {
        // _include drags the Patient in; the token covers p03's Patient and Observations (N only).
        var token = await Patient03TokenAsync();
        using var response = await Client.GetWithTokenAsync("Observation?subject=Patient/p03&_include=Observation:subject", token);
        var ids = (await response.JsonAsync()).EntryIds();
        Assert.Equal(["obs-03-1", "p03"], ids.Order().ToList());

        var observationsOnly = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var noPatient = await Client.GetWithTokenAsync("Observation?subject=Patient/p03&_include=Observation:subject", observationsOnly);
        Assert.Equal(["obs-03-1"], (await noPatient.JsonAsync()).EntryIds());
    }

    [Fact]
    public async Task Revinclude_ResourcesTheTokenCannotSee_Removed()
    {
        var patientOnly = await env.TokenAsync("[" + Permission("10003", "Patient") + "]");
        using var response = await Client.GetWithTokenAsync("Patient?_id=p03&_revinclude=Observation:subject", patientOnly);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["p03"], (await response.JsonAsync()).EntryIds());
    }

    [Fact]
    public async Task CompartmentSearch_TrustsNothingFromTheUrl()
    {
        var token = await Patient03TokenAsync();
        using var own = await Client.GetWithTokenAsync("Patient/p03/Observation", token);
        Assert.Equal(["obs-03-1"], (await own.JsonAsync()).EntryIds()); // R and M entries of p03 removed

        using var other = await Client.GetWithTokenAsync("Patient/p04/Observation", token);
        await other.AssertEmptySearchAsync();
    }

    [Fact]
    public async Task Everything_ReturnsOnlyWhatTheTokenMaySee()
    {
        var token = await Patient03TokenAsync(); // p03's Patient and Observations, label N
        using var response = await Client.GetWithTokenAsync("Patient/p03/$everything", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal(["obs-03-1", "p03"], bundle.EntryIds().Order().ToList()); // no R/M Observation, no Condition, no Specimen
        Assert.Null(bundle["total"]);

        using var other = await Client.GetWithTokenAsync("Patient/p04/$everything", token);
        await other.AssertEmptySearchAsync();
    }

    [Fact]
    public async Task QueryStringToken_RefusedByDefault_NotForwarded()
    {
        var token = await Patient03TokenAsync();
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetAsync("Patient/p03?access_token=" + token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", response.Challenge(), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task QueryStringToken_AcceptedWhenConfigured()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_ALLOW_QUERY_TOKENS", "true"));
        var token = await Patient03TokenAsync();
        using var ok = await gateway.Client.GetAsync("Patient/p03?access_token=" + token);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var denied = await gateway.Client.GetAsync("Patient/p04?access_token=" + token);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        using var both = await gateway.Client.GetWithTokenAsync("Patient/p03?access_token=" + token, token);
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode); // two tokens: ambiguous
    }

    [Fact]
    public async Task TokenFormatAndSubsetting_NeverReachTheFhirServer()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_ALLOW_QUERY_TOKENS", "true"));
        var token = await Patient03TokenAsync();
        var marker = "_id=obs-03-1&subject=Patient/p03";
        using var search = await gateway.Client.GetAsync($"Observation?{marker}&access_token={token}&_format=json&_elements=status");
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        using var summary = await gateway.Client.GetAsync($"Observation?{marker}&_summary=true&access_token={token}");
        Assert.Equal(HttpStatusCode.OK, summary.StatusCode);

        // Both searches reached the FHIR server with their own criteria only.
        var forwarded = (await env.Fhir.RecentUrlsAsync()).Where(u => u.Contains("_id=obs-03-1", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, forwarded.Count);
        Assert.All(forwarded, url =>
        {
            Assert.StartsWith("/Observation?", url, StringComparison.Ordinal);
            Assert.Contains("subject=Patient", url, StringComparison.Ordinal);
            foreach (var name in new[] { "access_token", "_format", "_elements", "_summary" })
            {
                Assert.DoesNotContain(name, url, StringComparison.Ordinal);
            }
        });
    }

    [Theory]
    [InlineData("Patient/p03/$graph")]
    [InlineData("$reindex")]
    [InlineData("Observation/$purge")]
    public async Task OperationNotInTheTable_403NamingIt_NothingForwarded(string path)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.GetWithTokenAsync(path, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(path.Split('$')[1], await response.AssertOutcomeAsync("not-supported"), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task Head_LikeGetWithoutBody()
    {
        var token = await Patient03TokenAsync();
        using var permitted = new HttpRequestMessage(HttpMethod.Head, "Observation/obs-03-1");
        permitted.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var ok = await Client.SendAsync(permitted);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.True(ok.Content.Headers.ContentLength > 0);
        Assert.Empty(await ok.Content.ReadAsByteArrayAsync());

        using var denied = new HttpRequestMessage(HttpMethod.Head, "Observation/obs-03-2");
        denied.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var forbidden = await Client.SendAsync(denied);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Empty(await forbidden.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task SlowFhirServer_504Outcome()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_UPSTREAM_TIMEOUT_SECONDS", "1"));
        var token = await Patient03TokenAsync();
        await env.FhirFaultAsync("slow");
        using var response = await gateway.Client.GetWithTokenAsync("Patient/p03", token);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await response.AssertOutcomeAsync("timeout");
    }
}
