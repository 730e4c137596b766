using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// UMA mode (UMA_MODE=true, Pauldron's default) through a real gateway, against the development
/// authorization server, which speaks Pauldron's wire format (permission registration, tickets,
/// RPTs in both permission shapes with exp in milliseconds or seconds). Each test asserts the
/// answer, its challenge and body, and the registrations the authorization server received.
/// </summary>
[Collection(HearthCollection.Name)]
public partial class UmaTests(HearthEnvironment env)
{
    private static readonly string Obs011Needs = Registered("10001", "Observation", "read", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]");

    private static string Registered(string? patient, string? type, string action, string labels = "\"*\"")
        => "{\"resource_set_id\":{\"patientId\":" + (patient is null ? "\"*\"" : "{\"system\":\"urn:official:id\",\"value\":\"" + patient + "\"}")
           + ",\"resourceType\":\"" + (type ?? "*") + "\",\"securityLabel\":" + labels + "},\"scopes\":[\"" + action + "\"]}";

    private Task<GatewayInstance> UmaGatewayAsync(params (string Key, string? Value)[] changes)
        => env.StartGatewayAsync([("UMA_MODE", "true"), .. changes]);

    private static async Task<HttpResponseMessage> GetAsync(GatewayInstance gateway, string path, string? token = null)
        => await gateway.Client.GetWithTokenAsync(path, token);

    /// <summary>The ticket of a UMA challenge, checked against the body's extensions.</summary>
    private async Task<string> AssertChallengeAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        var match = ChallengePattern().Match(challenge);
        Assert.True(match.Success, challenge);
        Assert.Equal("hearth-test", match.Groups["realm"].Value);
        Assert.Equal(env.AuthBase, match.Groups["as"].Value);
        var ticket = match.Groups["ticket"].Value;

        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.JsonAsync();
        Assert.Equal("OperationOutcome", body["resourceType"]!.GetValue<string>());
        var extensions = body["extension"]!.AsArray().ToDictionary(e => e!["url"]!.GetValue<string>(), e => e!.AsObject());
        Assert.Equal(ticket, extensions[RefusalWriter.TicketExtension]["valueString"]!.GetValue<string>());
        Assert.Equal(env.AuthBase, extensions[RefusalWriter.AsUriExtension]["valueUri"]!.GetValue<string>());
        Assert.Equal(env.AuthBase + "/authorization", extensions[RefusalWriter.AuthorizationEndpointExtension]["valueUri"]!.GetValue<string>());
        return ticket;
    }

    [Fact]
    public async Task SmartScopesInAnRpt_Honoured_TicketsKeepPauldronsShape()
    {
        await using var gateway = await UmaGatewayAsync();
        var rpt = await env.Auth.TokenAsync("[]", smartScope: "patient/Observation.rs", patient: "p03");
        using (var permitted = await GetAsync(gateway, "Observation/obs-03-2", rpt))
        {
            Assert.Equal(HttpStatusCode.OK, permitted.StatusCode); // SMART grants every label (R)
        }

        using var refused = await GetAsync(gateway, "Observation/obs-04-1", rpt);
        await AssertChallengeAsync(refused, HttpStatusCode.Forbidden);
        var registered = await LastRegistrationAsync();
        Assert.Equal("{\"system\":\"urn:official:id\",\"value\":\"10004\"}", registered.Single()!["resource_set_id"]!["patientId"]!.ToJsonString());
        Assert.Equal("[\"read\"]", registered.Single()!["scopes"]!.ToJsonString());
    }

    private async Task<JsonArray> LastRegistrationAsync()
    {
        var all = await env.Auth.RegistrationsAsync();
        Assert.NotEmpty(all);
        return all[^1]!.AsArray();
    }

    private static void AssertSame(string expectedJsonArray, JsonArray actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJsonArray), actual), $"registered {actual.ToJsonString()}");

    private async Task<string> RptAsync(string ticket, string shape = "permissions", string timeUnit = "ms")
    {
        using var response = await env.Auth.AuthorizeAsync(ticket, shape, timeUnit);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rpt").GetString()!;
    }

    [Fact]
    public async Task NoToken_401_TicketForWhatTheRequestNames_FhirServerNotAsked()
    {
        await using var gateway = await UmaGatewayAsync();
        var fhirBefore = await env.FhirTotalCountAsync();
        using var response = await GetAsync(gateway, "Observation?subject:Patient.identifier=urn:official:id|10001");
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized);
        AssertSame("[" + Registered("10001", "Observation", "read") + "]", await LastRegistrationAsync());
        Assert.Equal(fhirBefore, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task NoToken_RequestNamesNoPatient_TicketForAnyPatient_FhirServerNotAsked()
    {
        await using var gateway = await UmaGatewayAsync();
        var fhirBefore = await env.FhirTotalCountAsync();
        using var response = await GetAsync(gateway, "Observation/obs-01-1");
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized);
        AssertSame("[" + Registered(null, "Observation", "read") + "]", await LastRegistrationAsync());
        Assert.Equal(fhirBefore, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("Patient/p05/Condition", "10005", "Condition")]
    [InlineData("Patient/p06", "10006", "Patient")]
    [InlineData("Observation?subject=Patient/p07", "10007", "Observation")]
    [InlineData("Observation?patient=p08", "10008", "Observation")]
    public async Task NoToken_PatientNamedById_ResolvedByHearthsOwnCachedRead_TicketForItsIdentifier(string path, string identifier, string type)
    {
        await using var gateway = await UmaGatewayAsync(); // cold: no grain knows the patient yet
        var fhirBefore = await env.FhirTotalCountAsync();
        var patientReadsBefore = await env.FhirCountAsync("GET Patient read");
        using (var first = await GetAsync(gateway, path))
        {
            await AssertChallengeAsync(first, HttpStatusCode.Unauthorized);
        }

        AssertSame("[" + Registered(identifier, type, "read") + "]", await LastRegistrationAsync());
        using (var again = await GetAsync(gateway, path))
        {
            await AssertChallengeAsync(again, HttpStatusCode.Unauthorized);
        }

        // One read of that Patient by Hearth, cached; the client's request never reached the FHIR server.
        Assert.Equal(patientReadsBefore + 1, await env.FhirCountAsync("GET Patient read"));
        Assert.Equal(fhirBefore + 1, await env.FhirTotalCountAsync());
    }

    [Theory]
    [InlineData("Patient/does-not-exist/Condition", "Condition")]
    [InlineData("Patient/p20", "Patient")] // exists, but has no identifier
    public async Task NoToken_PatientThatCannotBeResolved_TicketForAnyPatient(string path, string type)
    {
        await using var gateway = await UmaGatewayAsync();
        using var response = await GetAsync(gateway, path);
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized);
        AssertSame("[" + Registered(null, type, "read") + "]", await LastRegistrationAsync());
    }

    [Fact]
    public async Task NoToken_Batch_TicketForEachEntrysTypeActionAndPatient_NothingForwarded()
    {
        await using var gateway = await UmaGatewayAsync();
        var fhirBefore = await env.FhirCountAsync("POST [system]");
        var bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
                     + "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?subject=Patient/p01\"}},"
                     + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Condition/cond-02\"}},"
                     + "{\"resource\":{\"resourceType\":\"Specimen\"},\"request\":{\"method\":\"POST\",\"url\":\"Specimen\"}}]}";
        using var response = await gateway.Client.SendAsync("POST", "", null, bundle);
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized);
        AssertSame("[" + Registered("10001", "Observation", "read") + "," + Registered(null, "Condition", "delete") + "," + Registered(null, "Specimen", "create") + "]",
            await LastRegistrationAsync());
        Assert.Equal(fhirBefore, await env.FhirCountAsync("POST [system]"));
    }

    [Theory]
    [InlineData("permissions", "ms")]
    [InlineData("scope", "s")]
    public async Task NoToken_Ticket_RptForThatTicket_200(string shape, string timeUnit)
    {
        await using var gateway = await UmaGatewayAsync();
        using var first = await GetAsync(gateway, "Observation?subject=Patient/p01");
        var ticket = await AssertChallengeAsync(first, HttpStatusCode.Unauthorized);

        var rpt = await RptAsync(ticket, shape, timeUnit);
        using var second = await GetAsync(gateway, "Observation?subject=Patient/p01", rpt);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var subjects = (await second.JsonAsync())["entry"]!.AsArray().Select(e => e!["resource"]!["subject"]!["reference"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(subjects);
        Assert.All(subjects, s => Assert.Equal("Patient/p01", s));
    }

    [Fact]
    public async Task InsufficientToken_403_TicketForExactlyWhatWasRefused_ThenItsRpt_200()
    {
        await using var gateway = await UmaGatewayAsync();
        var other = await env.TokenAsync("[" + Permission("10002") + "]");
        using var refused = await GetAsync(gateway, "Observation/obs-01-1", other);
        var ticket = await AssertChallengeAsync(refused, HttpStatusCode.Forbidden);
        AssertSame("[" + Obs011Needs + "]", await LastRegistrationAsync());

        using var granted = await GetAsync(gateway, "Observation/obs-01-1", await RptAsync(ticket));
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("obs-01-1", (await granted.JsonAsync())["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task InsufficientForASearch_TicketListsEachNeedOnce()
    {
        await using var gateway = await UmaGatewayAsync();
        var other = await env.TokenAsync("[" + Permission("10002") + "]");
        using var refused = await GetAsync(gateway, "Observation?subject=Patient/p01", other);
        await AssertChallengeAsync(refused, HttpStatusCode.Forbidden);
        var registered = await LastRegistrationAsync();
        var texts = registered.Select(p => p!.ToJsonString()).ToList();
        Assert.Equal(texts.Count, texts.Distinct().Count());
        // obs-01-1 (N), obs-01-2 (N) and obs-01-3 (no label: the default M) need two distinct permissions
        AssertSame("[" + Obs011Needs + "," + Registered("10001", "Observation", "read", "[{\"system\":\"" + Conf + "\",\"code\":\"M\"}]") + "]",
            new JsonArray(registered.OrderBy(p => p!.ToJsonString().Contains("\"M\"", StringComparison.Ordinal)).Select(p => p!.DeepClone()).ToArray()));
    }

    [Fact]
    public async Task InvalidToken_403_NewTicket_AsPauldronDoes()
    {
        await using var gateway = await UmaGatewayAsync();
        var revoked = await env.TokenAsync("[" + Permission("10001") + "]");
        await env.Auth.RevokeAsync(revoked);
        var before = (await env.Auth.RegistrationsAsync()).Count;
        using var response = await GetAsync(gateway, "Observation?subject:Patient.identifier=urn:official:id|10001", revoked);
        await AssertChallengeAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal(before + 1, (await env.Auth.RegistrationsAsync()).Count);
    }

    [Fact]
    public async Task WriteRefused_403_TicketForTheWrite()
    {
        await using var gateway = await UmaGatewayAsync();
        var reader = await env.TokenAsync("[" + Permission("10017", labels: Labels("N")) + "]");
        var countBefore = await env.Fhir.ObservationCountAsync("p17");
        using var request = new HttpRequestMessage(HttpMethod.Post, "Observation")
        {
            Content = new StringContent("{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"uma\"},\"subject\":{\"reference\":\"Patient/p17\"}}",
                Encoding.UTF8, "application/fhir+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader);
        using var response = await gateway.Client.SendAsync(request);
        await AssertChallengeAsync(response, HttpStatusCode.Forbidden);
        AssertSame("[" + Registered("10017", "Observation", "create", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]") + "]", await LastRegistrationAsync());
        Assert.Equal(countBefore, await env.Fhir.ObservationCountAsync("p17"));
    }

    [Theory]
    [InlineData("down")]
    [InlineData("garbage")] // a "ticket" that would inject a header is not a ticket
    public async Task RegistrationFails_403_WarningUnreachable_NoTicket(string fault)
    {
        await using var gateway = await UmaGatewayAsync();
        await env.Auth.RegistrationFaultAsync(fault);
        try
        {
            using var response = await GetAsync(gateway, "Observation/obs-01-1");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("199 - \"UMA Authorization Server Unreachable\"", response.Headers.GetValues("Warning").Single());
            Assert.False(response.Headers.Contains("X-Injected"));
            Assert.DoesNotContain("ticket=", string.Join(",", response.Headers.WwwAuthenticate.Select(h => h.ToString())), StringComparison.Ordinal);
            await response.AssertOutcomeAsync("transient");
        }
        finally
        {
            await env.Auth.RegistrationFaultAsync(null);
        }
    }

    [Fact]
    public async Task RegistrationHangs_AStormMakesOneCallAtATime_AndTheFirstRequestAfterwardsGetsItsTicket()
    {
        await using var gateway = await UmaGatewayAsync(("HEARTH_INTROSPECTION_TIMEOUT_SECONDS", "1"));
        await env.Auth.RegistrationFaultAsync("slow");
        try
        {
            using var client = new HttpClient { BaseAddress = gateway.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using (var first = await client.GetAsync("Observation/obs-01-1"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, first.StatusCode);
                Assert.True(first.Headers.Contains("Warning")); // answered within the timeout
            }

            // Now half-open: a storm of 40 requests, one registration in flight at a time.
            var calls = (await env.Auth.RegistrationsAsync()).Count;
            var storm = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => client.GetAsync($"Observation/obs-{1 + i % 20:00}-1")));
            Assert.All(storm, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
            Assert.All(storm, r => Assert.True(r.Headers.Contains("Warning")));
            foreach (var response in storm)
            {
                response.Dispose();
            }

            Assert.InRange((await env.Auth.RegistrationsAsync()).Count - calls, 1, 3);
        }
        finally
        {
            await env.Auth.RegistrationFaultAsync(null);
        }

        // Back: the very next request probes and gets its ticket (no fixed pause).
        using var back = await GetAsync(gateway, "Observation/obs-02-1");
        await AssertChallengeAsync(back, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RegistrationDown_ThenBack_TheFirstRequestAfterwardsGetsItsTicket()
    {
        await using var gateway = await UmaGatewayAsync();
        await env.Auth.RegistrationFaultAsync("down");
        using (var down = await GetAsync(gateway, "Observation/obs-01-1"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, down.StatusCode);
            Assert.True(down.Headers.Contains("Warning"));
        }

        await env.Auth.RegistrationFaultAsync(null);
        using var back = await GetAsync(gateway, "Observation/obs-01-1");
        await AssertChallengeAsync(back, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Export_NoToken_401_TicketForEachTypeAsPauldronRegistersIt_ThenRpt_202()
    {
        await using var gateway = await UmaGatewayAsync();
        var exportsBefore = (await env.Fhir.ExportsAsync()).Count;
        using var request = new HttpRequestMessage(HttpMethod.Get, "$export?_type=Observation,Condition");
        request.Headers.Add("Prefer", "respond-async");
        using var response = await gateway.Client.SendAsync(request);
        var ticket = await AssertChallengeAsync(response, HttpStatusCode.Unauthorized);
        AssertSame("[" + Registered(null, "Observation", "bulk-export") + "," + Registered(null, "Condition", "bulk-export") + "]", await LastRegistrationAsync());
        Assert.Equal(exportsBefore, (await env.Fhir.ExportsAsync()).Count);

        using var retry = new HttpRequestMessage(HttpMethod.Get, "$export?_type=Observation,Condition");
        retry.Headers.Add("Prefer", "respond-async");
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await RptAsync(ticket));
        using var started = await gateway.Client.SendAsync(retry);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(exportsBefore + 1, (await env.Fhir.ExportsAsync()).Count);
    }

    [Fact]
    public async Task Export_Insufficient_403_TicketForEveryRequestedType()
    {
        await using var gateway = await UmaGatewayAsync();
        var observationsOnly = await env.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + "]");
        using var request = new HttpRequestMessage(HttpMethod.Get, "$export?_type=Observation,Condition");
        request.Headers.Add("Prefer", "respond-async");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", observationsOnly);
        using var response = await gateway.Client.SendAsync(request);
        await AssertChallengeAsync(response, HttpStatusCode.Forbidden);
        AssertSame("[" + Registered(null, "Observation", "bulk-export") + "," + Registered(null, "Condition", "bulk-export") + "]", await LastRegistrationAsync());
    }

    [Fact]
    public async Task OAuthMode_NoTicket_NothingRegistered()
    {
        var before = (await env.Auth.RegistrationsAsync()).Count;
        using var response = await env.Gateway.Client.GetAsync("Observation/obs-01-1");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // RFC 6750's challenge, and RFC 9449 §7.1's beside it (DPoP is accepted too); no UMA ticket.
        Assert.Equal(["Bearer", "DPoP"], response.Headers.WwwAuthenticate.Select(h => h.Scheme));
        Assert.DoesNotContain("ticket", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, (await env.Auth.RegistrationsAsync()).Count);
    }

    [GeneratedRegex("^UMA realm=\"(?<realm>[^\"]*)\", as_uri=\"(?<as>[^\"]*)\", ticket=\"(?<ticket>[^\"]+)\"$")]
    private static partial Regex ChallengePattern();
}
