using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Conditional create, update, patch and delete through a real gateway against Medplum's FHIR
/// engine (which resolves conditional interactions itself). The token is a writer for patient p17
/// only; p18's resources are hidden from it. Every oracle case compares a condition that matches
/// only a hidden resource with one that matches nothing: status, header names and body (ids and
/// timestamps aside) must be the same, and the hidden resource must be untouched.
/// </summary>
[Collection(HearthCollection.Name)]
public class ConditionalWriteTests(HearthEnvironment env)
{
    private const string System = "urn:test:conditional";

    private HttpClient Client => env.Gateway.Client;

    private static string NewValue() => Guid.NewGuid().ToString("N")[..12];

    private static string Obs(string patient, string value, int reading = 70, string? id = null)
        => "{\"resourceType\":\"Observation\"," + (id is null ? "" : "\"id\":\"" + id + "\",") + "\"identifier\":[{\"system\":\"" + System + "\",\"value\":\"" + value + "\"}],"
           + "\"status\":\"final\",\"code\":{\"text\":\"conditional\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
           + "\"valueQuantity\":{\"value\":" + reading + ",\"unit\":\"/min\"}}";

    private static string Criteria(string value) => "identifier=" + Uri.EscapeDataString(System + "|" + value);

    private Task<string> WriterForP17(string action = "*") => env.TokenAsync("[" + Permission("10017", action: action) + "]");

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string token, string? body = null, string? ifNoneExist = null,
        string contentType = "application/fhir+json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        if (ifNoneExist is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Exist", ifNoneExist);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>The Observations with this identifier value, read directly at the FHIR server: id → subject.</summary>
    private async Task<Dictionary<string, string>> StoredAsync(string value)
    {
        var (_, bundle) = await env.Fhir.GetAsync("Observation?" + Criteria(value) + "&_count=100");
        return (bundle!["entry"]?.AsArray() ?? []).Select(e => e!["resource"]!)
            .ToDictionary(r => r["id"]!.GetValue<string>(), r => r["subject"]!["reference"]!.GetValue<string>());
    }

    private async Task<string> StoreAsync(string patient, string value, int reading = 70) => await env.Fhir.PostAsync("Observation", Obs(patient, value, reading));

    /// <summary>What a client can tell apart between two answers: status, header names, and the body without ids, versions and times.</summary>
    private static async Task<string> ShapeAsync(HttpResponseMessage response)
    {
        var names = response.Headers.Concat(response.Content.Headers).Select(h => h.Key.ToLowerInvariant())
            .Where(n => n is not ("date" or "traceparent" or "request-context")).Order(StringComparer.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? null : JsonNode.Parse(text)!.AsObject();
        if (body is not null)
        {
            body.Remove("id");
            body.Remove("meta");
            body["identifier"] = null;
        }

        return (int)response.StatusCode + " " + string.Join(",", names) + " " + body?.ToJsonString();
    }

    [Fact]
    public async Task Create_OnlyAHiddenMatch_AnswersAsNoMatch_CreatesTheResource()
    {
        var token = await WriterForP17();
        var (hiddenValue, freeValue) = (NewValue(), NewValue());
        var hidden = await StoreAsync("p18", hiddenValue);

        using var overHidden = await SendAsync("POST", "Observation", token, Obs("p17", hiddenValue), Criteria(hiddenValue));
        using var overNothing = await SendAsync("POST", "Observation", token, Obs("p17", freeValue), Criteria(freeValue));

        Assert.Equal(HttpStatusCode.Created, overHidden.StatusCode);
        Assert.Equal(await ShapeAsync(overNothing), await ShapeAsync(overHidden));
        var stored = await StoredAsync(hiddenValue);
        Assert.Equal(2, stored.Count); // a duplicate of the hidden resource, which is untouched
        Assert.Equal("Patient/p18", stored[hidden]);
        Assert.Single(await StoredAsync(freeValue));
    }

    [Fact]
    public async Task Create_OneVisibleMatch_200WithIt_NothingCreated()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var mine = await StoreAsync("p17", value);
        await StoreAsync("p18", NewValue()); // another patient's resource, matching other criteria

        using var response = await SendAsync("POST", "Observation", token, Obs("p17", value, reading: 99), Criteria(value));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mine, (await response.JsonAsync())["id"]!.GetValue<string>());
        Assert.Equal([mine], (await StoredAsync(value)).Keys);
        // The server was asked about that match only.
        Assert.Contains(await env.Fhir.RecentConditionsAsync(), r => r is { Method: "POST", Url: "/Observation" } && r.IfNoneExist == "_id=" + mine);
    }

    [Fact]
    public async Task Create_SeveralVisibleMatches_412_NothingCreated_HiddenOnesNeverCount()
    {
        var token = await WriterForP17();
        var (two, oneAndHidden) = (NewValue(), NewValue());
        await StoreAsync("p17", two);
        await StoreAsync("p17", two);
        var visible = await StoreAsync("p17", oneAndHidden);
        await StoreAsync("p18", oneAndHidden);

        using var several = await SendAsync("POST", "Observation", token, Obs("p17", two), Criteria(two));
        using var oneVisible = await SendAsync("POST", "Observation", token, Obs("p17", oneAndHidden), Criteria(oneAndHidden));

        Assert.Equal(HttpStatusCode.PreconditionFailed, several.StatusCode);
        await several.AssertOutcomeAsync("multiple-matches");
        Assert.Equal(2, (await StoredAsync(two)).Count);
        Assert.Equal(HttpStatusCode.OK, oneVisible.StatusCode);
        Assert.Equal(visible, (await oneVisible.JsonAsync())["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_BodyNotPermitted_403_NothingSearchedOrCreated()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var before = await env.FhirTotalCountAsync();

        using var response = await SendAsync("POST", "Observation", token, Obs("p18", value), Criteria(value));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(await env.Fhir.RecentUrlsAsync(), u => u.Contains(value, StringComparison.Ordinal));
        Assert.Empty(await StoredAsync(value));
        Assert.True(await env.FhirTotalCountAsync() - before <= 2); // the Patient's resolution at most, never the search
    }

    [Fact]
    public async Task Create_TokenReadsTheWholeType_ConditionForwardedAsIs()
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var value = NewValue();
        var other = await StoreAsync("p18", value);

        using var response = await SendAsync("POST", "Observation", token, Obs("p17", value), Criteria(value));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(other, (await response.JsonAsync())["id"]!.GetValue<string>());
        Assert.Contains(await env.Fhir.RecentConditionsAsync(), r => r is { Method: "POST", Url: "/Observation" } && r.IfNoneExist == Criteria(value));
        Assert.Single(await StoredAsync(value));
    }

    [Fact]
    public async Task Update_OneVisibleMatch_SentAsAPlainUpdateOfIt()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var mine = await StoreAsync("p17", value);

        using var response = await SendAsync("PUT", "Observation?" + Criteria(value), token, Obs("p17", value, reading: 99));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync("Observation/" + mine);
        Assert.Equal(99, stored!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Contains(await env.Fhir.RecentConditionsAsync(), r => r is { Method: "PUT", IfMatch: not null } && r.Url == "/Observation/" + mine); // plain, pinned
    }

    [Fact]
    public async Task Update_OnlyAHiddenMatch_AnswersAsNoMatch_CreatesHiddenUntouched()
    {
        var token = await WriterForP17();
        var (hiddenValue, freeValue) = (NewValue(), NewValue());
        var hidden = await StoreAsync("p18", hiddenValue);

        using var overHidden = await SendAsync("PUT", "Observation?" + Criteria(hiddenValue), token, Obs("p17", hiddenValue, reading: 99));
        using var overNothing = await SendAsync("PUT", "Observation?" + Criteria(freeValue), token, Obs("p17", freeValue, reading: 99));

        Assert.Equal(HttpStatusCode.Created, overHidden.StatusCode);
        Assert.Equal(await ShapeAsync(overNothing), await ShapeAsync(overHidden));
        var (_, stored) = await env.Fhir.GetAsync("Observation/" + hidden);
        Assert.Equal(70, stored!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Equal("Patient/p18", stored["subject"]!["reference"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_Refused_MovingTheMatchToAnotherPatient_403_Unchanged()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var mine = await StoreAsync("p17", value);

        using var response = await SendAsync("PUT", "Observation?" + Criteria(value), token, Obs("p18", value, reading: 99));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Patient/p17", (await StoredAsync(value))[mine]);
    }

    [Theory]
    [InlineData("several visible", HttpStatusCode.PreconditionFailed)]
    [InlineData("no match, an id in the body", HttpStatusCode.BadRequest)]
    [InlineData("one match, another id in the body", HttpStatusCode.BadRequest)]
    public async Task Update_Ambiguous_Refused_NothingWritten(string kind, HttpStatusCode status)
    {
        var token = await WriterForP17();
        var value = NewValue();
        if (kind == "several visible")
        {
            await StoreAsync("p17", value);
            await StoreAsync("p17", value);
        }
        else if (kind.StartsWith("one match", StringComparison.Ordinal))
        {
            await StoreAsync("p17", value);
        }

        var before = await StoredAsync(value);
        using var response = await SendAsync("PUT", "Observation?" + Criteria(value), token, Obs("p17", value, reading: 99, id: kind == "several visible" ? null : "cond-" + value));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(before, await StoredAsync(value));
        foreach (var id in before.Keys)
        {
            Assert.Equal(70, (await env.Fhir.GetAsync("Observation/" + id)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task Patch_OneVisibleMatch_Patched_OnlyHidden_404AsNoMatch()
    {
        var token = await WriterForP17();
        var (value, hiddenValue, freeValue) = (NewValue(), NewValue(), NewValue());
        var mine = await StoreAsync("p17", value);
        var hidden = await StoreAsync("p18", hiddenValue);
        const string patch = "[{\"op\":\"replace\",\"path\":\"/valueQuantity/value\",\"value\":42}]";

        using var patched = await SendAsync("PATCH", "Observation?" + Criteria(value), token, patch, contentType: "application/json-patch+json");
        using var overHidden = await SendAsync("PATCH", "Observation?" + Criteria(hiddenValue), token, patch, contentType: "application/json-patch+json");
        using var overNothing = await SendAsync("PATCH", "Observation?" + Criteria(freeValue), token, patch, contentType: "application/json-patch+json");

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(42, (await env.Fhir.GetAsync("Observation/" + mine)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.NotFound, overHidden.StatusCode);
        Assert.Equal(await ShapeAsync(overNothing), await ShapeAsync(overHidden));
        Assert.Equal(70, (await env.Fhir.GetAsync("Observation/" + hidden)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task Patch_Refused_MovingTheMatchToAnotherPatient_403_Unchanged()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var mine = await StoreAsync("p17", value);

        using var response = await SendAsync("PATCH", "Observation?" + Criteria(value), token,
            "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient/p18\"}]", contentType: "application/json-patch+json");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Patient/p17", (await StoredAsync(value))[mine]);
    }

    [Fact]
    public async Task Delete_OnlyAHiddenMatch_AnswersAsNoMatch_HiddenKept()
    {
        var token = await WriterForP17();
        var (hiddenValue, freeValue) = (NewValue(), NewValue());
        var hidden = await StoreAsync("p18", hiddenValue);

        using var overHidden = await SendAsync("DELETE", "Observation?" + Criteria(hiddenValue), token);
        using var overNothing = await SendAsync("DELETE", "Observation?" + Criteria(freeValue), token);

        Assert.Equal(HttpStatusCode.OK, overHidden.StatusCode);
        Assert.Equal(await ShapeAsync(overNothing), await ShapeAsync(overHidden));
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync("Observation/" + hidden)).Status);
    }

    [Fact]
    public async Task Delete_VisibleMatches_EachDeleted_HiddenOneKept()
    {
        var token = await WriterForP17();
        var value = NewValue();
        var one = await StoreAsync("p17", value);
        var two = await StoreAsync("p17", value);
        var hidden = await StoreAsync("p18", value);

        using var response = await SendAsync("DELETE", "Observation?" + Criteria(value), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([hidden], (await StoredAsync(value)).Keys);
        Assert.Equal(HttpStatusCode.Gone, (await env.Fhir.GetAsync("Observation/" + one)).Status);
        Assert.Equal(HttpStatusCode.Gone, (await env.Fhir.GetAsync("Observation/" + two)).Status);
    }

    [Fact]
    public async Task Delete_AVisibleMatchNotDeletable_403_NothingDeleted()
    {
        // May find both patients' Observations, but delete only p17's.
        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "," + Permission("10018", action: "read") + "]");
        var value = NewValue();
        await StoreAsync("p17", value);
        await StoreAsync("p18", value);

        using var response = await SendAsync("DELETE", "Observation?" + Criteria(value), token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(2, (await StoredAsync(value)).Count);
    }

    [Fact]
    public async Task Criteria_ReachingOtherTypes_NotWhollyReadable_403_NothingSent()
    {
        var token = await WriterForP17();
        var before = await env.FhirTotalCountAsync();

        using var chained = await SendAsync("DELETE", "Observation?subject:Patient.family=Doe", token);
        using var reverse = await SendAsync("POST", "Observation", token, Obs("p17", NewValue()), "_has:Condition:subject:code=x");

        Assert.Equal(HttpStatusCode.Forbidden, chained.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reverse.StatusCode);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("POST", "Observation", "foo=bar")]
    [InlineData("POST", "Observation", "_count=1")]
    [InlineData("POST", "Observation", "identifier")]
    [InlineData("POST", "Observation", "identifier=")]
    [InlineData("POST", "Observation?identifier=a", "identifier=a")]
    [InlineData("PUT", "Observation/obs-17-1?identifier=a", null)]
    [InlineData("PUT", "Observation/obs-17-1", "identifier=a")]
    [InlineData("PUT", "Observation", null)]
    [InlineData("DELETE", "Observation?_sort=date", null)]
    [InlineData("DELETE", "Observation?notaparameter=1", null)]
    public async Task BadConditions_400_NothingForwarded(string method, string path, string? ifNoneExist)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();

        using var response = await SendAsync(method, path, token, method == "DELETE" ? null : Obs("p17", NewValue(), id: path.Contains('/') ? "obs-17-1" : null), ifNoneExist);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("invalid");
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task TwoIfNoneExistHeaders_400_NothingForwarded()
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        var body = Encoding.UTF8.GetBytes(Obs("p17", NewValue()));
        var gateway = new Uri(env.Gateway.BaseUrl + "/");

        // Two header lines (HttpClient would join them into one): written on the socket as a client may send them.
        using var tcp = new global::System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port);
        var stream = tcp.GetStream();
        var head = $"POST {gateway.AbsolutePath}Observation HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {token}\r\n"
                   + "If-None-Exist: identifier=a\r\nIf-None-Exist: identifier=b\r\nContent-Type: application/fhir+json\r\n"
                   + $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head).Concat(body).ToArray());
        using var reader = new StreamReader(stream);
        var answer = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("one If-None-Exist header", answer, StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    private async Task<JsonObject> PostBundleAsync(string type, string token, HttpStatusCode expected, params JsonObject[] entries)
    {
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = type, ["entry"] = new JsonArray(entries) };
        using var response = await SendAsync("POST", "", token, bundle.ToJsonString());
        Assert.Equal(expected, response.StatusCode);
        return await response.JsonAsync();
    }

    private static JsonObject Entry(string method, string url, string? resource = null, string? ifNoneExist = null)
    {
        var request = new JsonObject { ["method"] = method, ["url"] = url };
        if (ifNoneExist is not null)
        {
            request["ifNoneExist"] = ifNoneExist;
        }

        var entry = new JsonObject { ["request"] = request };
        if (resource is not null)
        {
            entry["resource"] = JsonNode.Parse(resource);
        }

        return entry;
    }

    private static List<string> Statuses(JsonObject bundle)
        => bundle["entry"]!.AsArray().Select(e => e!["response"]!["status"]!.GetValue<string>().Split(' ')[0]).ToList();

    [Fact]
    public async Task Batch_ConditionalEntries_JudgedAsAlone_HiddenMatchesNeverCount()
    {
        var token = await WriterForP17();
        var (hiddenCreate, freeCreate, mineUpdate, hiddenDelete, hiddenPatch, twoDelete) = (NewValue(), NewValue(), NewValue(), NewValue(), NewValue(), NewValue());
        await StoreAsync("p18", hiddenCreate);
        var mine = await StoreAsync("p17", mineUpdate);
        var hiddenToKeep = await StoreAsync("p18", hiddenDelete);
        await StoreAsync("p18", hiddenPatch);
        await StoreAsync("p17", twoDelete);
        await StoreAsync("p17", twoDelete);
        const string patch = "{\"resourceType\":\"Binary\",\"contentType\":\"application/json-patch+json\",\"data\":\"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii92YWx1ZVF1YW50aXR5L3ZhbHVlIiwidmFsdWUiOjQyfV0=\"}";

        var answer = await PostBundleAsync("batch", token, HttpStatusCode.OK,
            Entry("POST", "Observation", Obs("p17", hiddenCreate), Criteria(hiddenCreate)),
            Entry("POST", "Observation", Obs("p17", freeCreate), Criteria(freeCreate)),
            Entry("PUT", "Observation?" + Criteria(mineUpdate), Obs("p17", mineUpdate, reading: 99)),
            Entry("DELETE", "Observation?" + Criteria(hiddenDelete)),
            Entry("PATCH", "Observation?" + Criteria(hiddenPatch), patch),
            Entry("DELETE", "Observation?" + Criteria(twoDelete)));

        Assert.Equal(["201", "201", "200", "200", "404", "412"], Statuses(answer));
        Assert.Equal(2, (await StoredAsync(hiddenCreate)).Count);
        Assert.Equal(99, (await env.Fhir.GetAsync("Observation/" + mine)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync("Observation/" + hiddenToKeep)).Status);
        var hiddenPatched = (await StoredAsync(hiddenPatch)).Keys.Single();
        Assert.Equal(70, (await env.Fhir.GetAsync("Observation/" + hiddenPatched)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Equal(2, (await StoredAsync(twoDelete)).Count);
    }

    [Fact]
    public async Task Transaction_ConditionalUpdate_SentAsTheUpdateOfItsMatch_AnAmbiguousOneRefusesAll()
    {
        var token = await WriterForP17();
        var (value, two, fresh) = (NewValue(), NewValue(), NewValue());
        var mine = await StoreAsync("p17", value);
        await StoreAsync("p17", two);
        await StoreAsync("p17", two);

        var applied = await PostBundleAsync("transaction", token, HttpStatusCode.OK,
            Entry("PUT", "Observation?" + Criteria(value), Obs("p17", value, reading: 98)),
            Entry("POST", "Observation", Obs("p17", fresh), Criteria(fresh)));
        Assert.Equal(["200", "201"], Statuses(applied));
        Assert.Equal(98, (await env.Fhir.GetAsync("Observation/" + mine)).Resource!["valueQuantity"]!["value"]!.GetValue<int>());

        var other = NewValue();
        var refused = await PostBundleAsync("transaction", token, HttpStatusCode.BadRequest,
            Entry("POST", "Observation", Obs("p17", other)),
            Entry("PUT", "Observation?" + Criteria(two), Obs("p17", two, reading: 1)));
        Assert.Contains("entry 1: The criteria match more than one resource", refused.ToJsonString(), StringComparison.Ordinal);
        Assert.Empty(await StoredAsync(other)); // refused whole
    }

    [Fact]
    public async Task Batch_ConditionalEntries_Bounded_TheOnesBeyondRefused()
    {
        var token = await WriterForP17();
        var entries = Enumerable.Range(0, 22).Select(_ => Entry("DELETE", "Observation?" + Criteria(NewValue()))).ToArray();

        var answer = await PostBundleAsync("batch", token, HttpStatusCode.OK, entries);

        Assert.Equal(Enumerable.Repeat("200", 20).Concat(["413", "413"]), Statuses(answer)); // 20 searched (nothing matched), the rest not
    }

    [Theory]
    [InlineData("PUT", "Observation/obs-17-1?identifier=a", null)]
    [InlineData("PUT", "Observation/obs-17-1", "identifier=a")]
    [InlineData("POST", "Observation", "foo=bar")]
    [InlineData("DELETE", "Observation?_count=1", null)]
    public async Task Batch_BadConditions_400Entries_NothingForwarded(string method, string url, string? ifNoneExist)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();

        var answer = await PostBundleAsync("batch", token, HttpStatusCode.OK, Entry(method, url, method == "DELETE" ? null : Obs("p17", NewValue(), id: url.Contains('/') ? "obs-17-1" : null), ifNoneExist));

        Assert.Equal(["400"], Statuses(answer));
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }
}
