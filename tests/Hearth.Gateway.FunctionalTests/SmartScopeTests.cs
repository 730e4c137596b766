using System.Net;
using System.Text;
using Hearth.Gateway.FunctionalTests.Infrastructure;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// SMART on FHIR scopes through a real gateway and Medplum, with tokens from a real OpenID provider:
/// each row runs with a signed JWT (validated in the gateway) and with an opaque token of the same
/// client (introspected at the provider). Seed: p03 has obs-03-1 (vital-signs), obs-03-2
/// (laboratory, R), obs-03-3 (no category); cond-03; spec-03.
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class SmartScopeTests(HearthEnvironment env) : IAsyncLifetime
{
    private GatewayInstance? _gateway;

    private HttpClient Client => _gateway!.Client;

    public async Task InitializeAsync() => _gateway = await env.StartGatewayAsync(env.SmartSettings());

    public async Task DisposeAsync() => await _gateway!.DisposeAsync();

    /// <summary>Reads by id: name, scopes, patient claim, path, status.</summary>
    public static TheoryData<string, string, string?, string, HttpStatusCode> Reads => new()
    {
        { "patient/ v2 rs: the patient in context", "patient/Observation.rs", "p03", "Observation/obs-03-1", HttpStatusCode.OK },
        { "patient/ v2 rs: every label (R)", "patient/Observation.rs", "p03", "Observation/obs-03-2", HttpStatusCode.OK },
        { "patient/ v2 rs: another patient", "patient/Observation.rs", "p03", "Observation/obs-04-1", HttpStatusCode.Forbidden },
        { "patient/ v2 rs: another type", "patient/Observation.rs", "p03", "Condition/cond-03", HttpStatusCode.Forbidden },
        { "patient/ v2 rs: the Patient needs its own scope", "patient/Observation.rs", "p03", "Patient/p03", HttpStatusCode.Forbidden },
        { "patient/ Patient.r: the Patient in context", "patient/Patient.r", "p03", "Patient/p03", HttpStatusCode.OK },
        { "patient/ Patient.r: another Patient", "patient/Patient.r", "p03", "Patient/p04", HttpStatusCode.Forbidden },
        { "patient/ s alone does not read by id", "patient/Observation.s", "p03", "Observation/obs-03-1", HttpStatusCode.Forbidden },
        { "patient/ v1 read", "patient/Observation.read", "p03", "Observation/obs-03-1", HttpStatusCode.OK },
        { "patient/ a Patient without identifiers, by id", "patient/Observation.r", "p20", "Observation/obs-20-1", HttpStatusCode.OK },
        { "user/ v2: any patient", "user/Observation.rs", null, "Observation/obs-04-1", HttpStatusCode.OK },
        { "user/ v1 *: any type", "user/*.read", null, "Specimen/spec-03", HttpStatusCode.OK },
        { "user/ outside the compartment", "user/Observation.r", null, "Observation/obs-group", HttpStatusCode.OK },
        { "system/ v2", "system/Condition.r", null, "Condition/cond-05", HttpStatusCode.OK },
        { "granular read: matching category", "patient/Observation.rs?category=laboratory", "p03", "Observation/obs-03-2", HttpStatusCode.OK },
        { "granular read: another category", "patient/Observation.rs?category=laboratory", "p03", "Observation/obs-03-1", HttpStatusCode.Forbidden },
        { "granular read: system|code", "user/Observation.r?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", null, "Observation/obs-05-1", HttpStatusCode.OK },
        { "granular read: an unknown parameter grants nothing", "user/Observation.r?nonsense=1", null, "Observation/obs-05-1", HttpStatusCode.Forbidden },
        { "openid and launch scopes grant nothing", "openid fhirUser launch/patient", "p03", "Observation/obs-03-1", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(Reads))]
    public async Task Read(string name, string scopes, string? patient, string path, HttpStatusCode expected)
    {
        foreach (var opaque in new[] { false, true })
        {
            var token = await env.Oidc.TokenForAsync(scopes, patient, opaque);
            using var response = await Client.GetWithTokenAsync(path, token);
            Assert.True(expected == response.StatusCode, $"{name} ({(opaque ? "introspected" : "JWT")}): expected {expected}, got {response.StatusCode}");
        }
    }

    /// <summary>Searches: name, scopes, patient claim, query, the ids the token gets (sorted; empty: as if nothing matched).</summary>
    public static TheoryData<string, string, string?, string, string[]> Searches => new()
    {
        { "patient/ rs: the patient's", "patient/Observation.rs", "p03", "Observation?subject=Patient/p03", ["obs-03-1", "obs-03-2", "obs-03-3"] },
        { "patient/ rs: another patient's: nothing", "patient/Observation.rs", "p03", "Observation?subject=Patient/p04", [] },
        { "patient/ r alone does not search", "patient/Observation.r", "p03", "Observation?subject=Patient/p03", [] },
        { "granular search: only the matching entries", "patient/Observation.rs?category=laboratory", "p03", "Observation?subject=Patient/p03", ["obs-03-2"] },
        { "granular search: several values", "patient/Observation.s?category=laboratory,vital-signs", "p03", "Observation?subject=Patient/p03", ["obs-03-1", "obs-03-2"] },
        { "user/ s: any patient", "user/Condition.s", null, "Condition?subject=Patient/p05", ["cond-05"] },
        { "scopes add up", "patient/Condition.rs patient/Specimen.rs", "p03", "Patient/p03/$everything", ["cond-03", "spec-03"] },
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task Search(string name, string scopes, string? patient, string path, string[] expected)
    {
        foreach (var opaque in new[] { false, true })
        {
            var token = await env.Oidc.TokenForAsync(scopes, patient, opaque);
            using var response = await Client.GetWithTokenAsync(path, token);
            if (expected.Length == 0)
            {
                await response.AssertEmptySearchAsync();
                continue;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var ids = (await response.JsonAsync()).EntryIds().Order().ToList();
            Assert.True(expected.SequenceEqual(ids), $"{name} ({(opaque ? "introspected" : "JWT")}): got {string.Join(",", ids)}");
        }
    }

    private static string Obs(string id, string patient)
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"text\":\"smart\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";

    /// <summary>Writes: name, scopes, patient claim, method, the Observation's patient, whether it is written.</summary>
    public static TheoryData<string, string, string?, string, string, bool> Writes => new()
    {
        { "patient/ c creates for the patient in context", "patient/Observation.c", "p17", "POST", "p17", true },
        { "patient/ c: not for another patient", "patient/Observation.c", "p17", "POST", "p18", false },
        { "patient/ rs does not create", "patient/Observation.rs", "p17", "POST", "p17", false },
        { "user/ v1 write creates", "user/Observation.write", null, "POST", "p18", true },
        { "patient/ ru updates", "patient/Observation.ru", "p17", "PUT", "p17", true },
        { "patient/ c does not update", "patient/Observation.cr", "p17", "PUT", "p17", false },
        { "patient/ d deletes", "patient/Observation.rd", "p17", "DELETE", "p17", true },
        { "patient/ d: not another patient's", "patient/Observation.rd", "p17", "DELETE", "p18", false },
        { "user/ u does not delete", "user/Observation.ru", null, "DELETE", "p18", false },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task Write(string name, string scopes, string? patient, string method, string subject, bool written)
    {
        foreach (var opaque in new[] { false, true })
        {
            var id = "smart-" + Guid.NewGuid().ToString("N")[..10];
            if (method != "POST")
            {
                await env.Fhir.PutAsync($"Observation/{id}", Obs(id, subject));
            }

            var token = await env.Oidc.TokenForAsync(scopes, patient, opaque);
            using var request = new HttpRequestMessage(new HttpMethod(method), method == "POST" ? "Observation" : $"Observation/{id}");
            if (method != "DELETE")
            {
                request.Content = new StringContent(Obs(id, subject).Replace("\"smart\"", "\"" + id + "\"", StringComparison.Ordinal), Encoding.UTF8, "application/fhir+json");
            }

            request.Headers.Authorization = new("Bearer", token);
            using var response = await Client.SendAsync(request);
            var label = $"{name} ({(opaque ? "introspected" : "JWT")})";
            Assert.True(written == response.IsSuccessStatusCode, $"{label}: {response.StatusCode}");
            var (_, stored) = await env.Fhir.GetAsync($"Observation?code:text={id}");
            var storedCount = stored!["entry"]?.AsArray().Count ?? 0;
            var expected = method switch
            {
                "POST" => written ? 1 : 0,
                "PUT" => written ? 1 : 0, // the update carries the id as its code text
                _ => 0,
            };
            if (method == "DELETE")
            {
                var (status, _) = await env.Fhir.GetAsync($"Observation/{id}");
                Assert.True(written == (status != HttpStatusCode.OK), $"{label}: still there: {status}");
            }
            else
            {
                Assert.True(expected == storedCount, $"{label}: {storedCount} stored");
            }
        }
    }

    [Theory]
    [InlineData("system/Observation.rs", HttpStatusCode.Accepted)]
    [InlineData("system/*.read", HttpStatusCode.Accepted)]
    [InlineData("system/Observation.r", HttpStatusCode.Forbidden)] // an export reads and searches
    [InlineData("user/Observation.rs", HttpStatusCode.Forbidden)] // a user's scopes do not export
    [InlineData("system/Condition.rs", HttpStatusCode.Forbidden)]
    public async Task Export_NeedsSystemReadAndSearch(string scope, HttpStatusCode expected)
    {
        var (status, text) = await ExportObservationsAsync(scope);
        Assert.Equal(expected, status);
        if (expected == HttpStatusCode.Accepted)
        {
            Assert.Contains("\"obs-03-2\"", text, StringComparison.Ordinal); // labelled R: a SMART scope grants every label
            Assert.DoesNotContain("\"obs-foreign\"", text, StringComparison.Ordinal); // its patient cannot be resolved: never exported
        }
    }

    /// <summary>A granular scope's condition is evaluated on every exported line (on the line's parsed resource) as on a read.</summary>
    [Fact]
    public async Task Export_GranularScope_OnlyTheLinesItsConditionMatches()
    {
        var (status, text) = await ExportObservationsAsync("system/Observation.rs?category=laboratory");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Contains("\"obs-03-2\"", text, StringComparison.Ordinal); // laboratory
        Assert.Contains("\"obs-10-2\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"obs-03-1\"", text, StringComparison.Ordinal); // vital signs
        Assert.DoesNotContain("\"obs-03-3\"", text, StringComparison.Ordinal); // no category
    }

    /// <summary>Kicks off an Observation export with a token of <paramref name="scope"/>; when accepted, polls it and downloads its Observation file.</summary>
    private async Task<(HttpStatusCode Status, string File)> ExportObservationsAsync(string scope)
    {
        var token = await env.Oidc.TokenForAsync(scope);
        using var request = new HttpRequestMessage(HttpMethod.Get, "$export?_type=Observation");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("Prefer", "respond-async");
        using var response = await Client.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            return (response.StatusCode, "");
        }

        var status = response.Content.Headers.ContentLocation!.ToString();
        System.Text.Json.Nodes.JsonObject? manifest = null;
        var polled = "";
        for (var i = 0; i < 10 && manifest is null; i++)
        {
            using var poll = new HttpRequestMessage(HttpMethod.Get, status);
            poll.Headers.Authorization = new("Bearer", token);
            using var answer = await Client.SendAsync(poll);
            polled = $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}";
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                manifest = System.Text.Json.Nodes.JsonNode.Parse(polled[4..])!.AsObject();
            }
        }

        Assert.True(manifest is not null, $"the export's last poll answered {polled}");
        var file = manifest["output"]!.AsArray().Single(o => o!["type"]!.GetValue<string>() == "Observation")!;
        using var download = new HttpRequestMessage(HttpMethod.Get, file["url"]!.GetValue<string>());
        download.Headers.Authorization = new("Bearer", token);
        using var lines = await Client.SendAsync(download);
        Assert.Equal(HttpStatusCode.OK, lines.StatusCode);
        return (response.StatusCode, await lines.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnsupportedGranularScope_LoggedOncePerToken_GrantsNothing()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("Logging:LogLevel:Default", "Warning")));
        var token = await env.Oidc.TokenForAsync("user/Observation.rs?code:text=pulse");
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetWithTokenAsync("Observation/obs-05-1", token);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Single(gateway.Logs.Lines, l => l.Contains("grants nothing", StringComparison.Ordinal) && l.Contains("code:text", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains(token, StringComparison.Ordinal));
    }
}
