using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Writes through a real gateway to the real FHIR server. Every test checks the FHIR server's state
/// afterwards, read directly: nothing created, changed or deleted that the token could not touch.
/// Each test writes resources of its own (fresh ids), so the seed the other tests read stays intact.
/// </summary>
[Collection(HearthCollection.Name)]
public class WriteAuthorizationTests(HearthEnvironment env)
{
    private const string FhirJson = "application/fhir+json";

    private HttpClient Client => env.Gateway.Client;

    private static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    private static string Obs(string id, string patient, string label = "N", int value = 70)
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]},"
           + "\"status\":\"final\",\"code\":{\"text\":\"written\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
           + "\"valueQuantity\":{\"value\":" + value + ",\"unit\":\"/min\"}}";

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? token, string? body = null, string contentType = FhirJson, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        configure?.Invoke(request);
        return await Client.SendAsync(request);
    }

    private Task<string> WriterFor(string patient, string action = "*", string labels = "\"*\"")
        => env.TokenAsync("[" + Permission(patient, action: action, labels: labels) + "]");

    private async Task<string?> StoredSubjectAsync(string type, string id)
    {
        var (status, resource) = await env.Fhir.GetAsync($"{type}/{id}");
        return status == HttpStatusCode.OK ? resource!["subject"]!["reference"]!.GetValue<string>() : null;
    }

    [Fact]
    public async Task Create_Permitted_201_LocationAtGateway_StoredAtServer()
    {
        var token = await WriterFor("10017");
        using var response = await SendAsync("POST", "Observation", token, Obs("ignored", "p17"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(env.Gateway.BaseUrl + "/Observation/", location, StringComparison.Ordinal);
        var id = location[(env.Gateway.BaseUrl + "/Observation/").Length..].Split('/')[0];
        Assert.Equal("Patient/p17", await StoredSubjectAsync("Observation", id));
        Assert.Equal(id, (await response.JsonAsync())["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10005\"}]}", FhirJson, HttpStatusCode.BadRequest, "invalid")]
    [InlineData("{\"resourceType\":\"Observation\",", FhirJson, HttpStatusCode.BadRequest, "structure")]
    [InlineData("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"Patient/p17\"},\"subject\":{\"reference\":\"Patient/p18\"}}", FhirJson, HttpStatusCode.BadRequest, "structure")]
    [InlineData("Observation: p17", "text/plain", HttpStatusCode.UnsupportedMediaType, "not-supported")]
    public async Task Create_BadBody_RefusedNothingCreated(string body, string contentType, HttpStatusCode status, string code)
    {
        var token = await WriterFor("*");
        var before = await env.FhirTotalCountAsync();
        using var response = await SendAsync("POST", "Observation", token, body, contentType);
        Assert.Equal(status, response.StatusCode);
        await response.AssertOutcomeAsync(code);
        Assert.Equal(before, await env.FhirTotalCountAsync()); // not even a read reached the server
    }

    /// <summary>Updates of a stored Observation: name, its patient, the body's patient, the status, and the patient and value stored afterwards.</summary>
    public static TheoryData<string, string, string, HttpStatusCode, string, int> Updates => new()
    {
        { "within the token's patient: changed", "p17", "p17", HttpStatusCode.OK, "Patient/p17", 99 },
        { "moving it to a patient not granted: unchanged", "p17", "p18", HttpStatusCode.Forbidden, "Patient/p17", 70 },
        { "taking over another patient's resource: unchanged", "p18", "p17", HttpStatusCode.Forbidden, "Patient/p18", 70 },
    };

    [Theory]
    [MemberData(nameof(Updates))]
    public async Task Update(string name, string storedPatient, string bodyPatient, HttpStatusCode status, string storedSubject, int storedValue)
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, storedPatient, value: 70));
        var token = await WriterFor("10017");
        using var response = await SendAsync("PUT", $"Observation/{id}", token, Obs(id, bodyPatient, value: 99));
        Assert.True(status == response.StatusCode, $"{name}: {response.StatusCode}");
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(storedSubject, stored!["subject"]!["reference"]!.GetValue<string>());
        Assert.Equal(storedValue, stored["valueQuantity"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpdateAsCreate_NeedsCreate()
    {
        var id = NewId("w");
        var updateOnly = await WriterFor("10017", action: "update");
        using (var refused = await SendAsync("PUT", $"Observation/{id}", updateOnly, Obs(id, "p17")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Null(await StoredSubjectAsync("Observation", id));
        var create = await WriterFor("10017", action: "create");
        using var created = await SendAsync("PUT", $"Observation/{id}", create, Obs(id, "p17"));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, created.StatusCode.ToString());
        Assert.Equal("Patient/p17", await StoredSubjectAsync("Observation", id));
    }

    [Theory]
    [InlineData("other-id")]
    [InlineData(null)]
    public async Task Update_IdMismatch_400_Unchanged(string? bodyId)
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var token = await WriterFor("10017");
        var body = Obs(bodyId ?? "", "p17", value: 99).Replace("\"id\":\"\",", "", StringComparison.Ordinal);
        using var response = await SendAsync("PUT", $"Observation/{id}", token, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(70, stored!["valueQuantity"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task Update_StaleIfMatch_412_Unchanged()
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var token = await WriterFor("10017");
        using var response = await SendAsync("PUT", $"Observation/{id}", token, Obs(id, "p17", value: 99),
            configure: r => r.Headers.TryAddWithoutValidation("If-Match", "W/\"not-the-current-version\""));
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(70, stored!["valueQuantity"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task Patch_Permitted_ServerChanged()
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var token = await WriterFor("10017");
        var (puts, patches) = (await env.FhirCountAsync("PUT Observation read"), await env.FhirCountAsync("PATCH Observation read"));
        using var response = await SendAsync("PATCH", $"Observation/{id}", token,
            "[{\"op\":\"replace\",\"path\":\"/valueQuantity/value\",\"value\":88}]", "application/json-patch+json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(88, stored!["valueQuantity"]!["value"]!.GetValue<int>());

        // The FHIR server got the judged result as an update, not the patch to apply its own way.
        Assert.Equal(puts + 1, await env.FhirCountAsync("PUT Observation read"));
        Assert.Equal(patches, await env.FhirCountAsync("PATCH Observation read"));
    }

    [Theory]
    [InlineData("[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient/p18\"}]", HttpStatusCode.Forbidden)] // moves it to another patient
    [InlineData("[{\"op\":\"replace\",\"path\":\"/meta/security/0/code\",\"value\":\"R\"}]", HttpStatusCode.Forbidden)] // relabels it beyond the grant
    [InlineData("[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"elsewhere\"}]", HttpStatusCode.UnprocessableEntity)]
    [InlineData("[{\"op\":\"remove\",\"path\":\"/nothing\"}]", HttpStatusCode.UnprocessableEntity)]
    [InlineData("{\"not\":\"a patch\"}", HttpStatusCode.UnprocessableEntity)]
    public async Task Patch_Refused_Unchanged(string patch, HttpStatusCode status)
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var token = await WriterFor("10017", labels: Labels("N"));
        using var response = await SendAsync("PATCH", $"Observation/{id}", token, patch, "application/json-patch+json");
        Assert.Equal(status, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("Patient/p17", stored!["subject"]!["reference"]!.GetValue<string>());
        Assert.Equal("N", stored["meta"]!["security"]![0]!["code"]!.GetValue<string>());
        Assert.Equal(70, stored["valueQuantity"]!["value"]!.GetValue<int>());
    }

    private static string FhirPathReplace(string path, string valuePart)
        => "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"replace\"},"
           + "{\"name\":\"path\",\"valueString\":\"" + path + "\"},{\"name\":\"value\"," + valuePart + "}]}]}";

    [Fact]
    public async Task FhirPathPatch_Permitted_ServerChangedToTheJudgedResult()
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var (_, before) = await env.Fhir.GetAsync($"Observation/{id}");
        var token = await WriterFor("10017");
        using var response = await SendAsync("PATCH", $"Observation/{id}", token, FhirPathReplace("Observation.value.value", "\"valueDecimal\":91"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(91, stored!["valueQuantity"]!["value"]!.GetValue<int>());
        Assert.Equal("/min", stored["valueQuantity"]!["unit"]!.GetValue<string>());
        Assert.NotEqual(before!["meta"]!["versionId"]!.GetValue<string>(), stored["meta"]!["versionId"]!.GetValue<string>());
        Assert.Equal(91, (await response.JsonAsync())["valueQuantity"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task FhirPathPatch_AsXml_Permitted()
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var token = await WriterFor("10017");
        const string xml = """
            <Parameters xmlns="http://hl7.org/fhir"><parameter><name value="operation"/>
              <part><name value="type"/><valueCode value="add"/></part><part><name value="path"/><valueString value="Observation"/></part>
              <part><name value="name"/><valueString value="note"/></part>
              <part><name value="value"/><part><name value="text"/><valueMarkdown value="patched as XML"/></part></part>
            </parameter></Parameters>
            """;
        using var response = await SendAsync("PATCH", $"Observation/{id}", token, xml, "application/fhir+xml");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("patched as XML", stored!["note"]![0]!["text"]!.GetValue<string>());
    }

    public static TheoryData<string, HttpStatusCode, string> FhirPathAttacks => new()
    {
        // moves the Observation to a patient the token cannot touch
        { FhirPathReplace("Observation.subject", "\"valueReference\":{\"reference\":\"Patient/p18\"}"), HttpStatusCode.Forbidden, "forbidden" },
        // relabels it beyond the grant
        { FhirPathReplace("Observation.meta.security.where(code='N').code", "\"valueCode\":\"R\""), HttpStatusCode.Forbidden, "forbidden" },
        // renames it
        { FhirPathReplace("Observation.id", "\"valueId\":\"elsewhere\""), HttpStatusCode.UnprocessableEntity, "processing" },
        // a path whose cost grows with the resource, or that restarts from the root inside a filter
        { FhirPathReplace("descendants().where(reference='Patient/p17').reference", "\"valueString\":\"Patient/p18\""), HttpStatusCode.UnprocessableEntity, "processing" },
        { FhirPathReplace("Observation.subject.where(%resource.exists()).reference", "\"valueString\":\"Patient/p18\""), HttpStatusCode.UnprocessableEntity, "processing" },
        // not FHIRPath, not a Parameters resource
        { FhirPathReplace("Observation.(((", "\"valueString\":\"x\""), HttpStatusCode.UnprocessableEntity, "processing" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":[]}", HttpStatusCode.UnprocessableEntity, "processing" },
    };

    [Theory]
    [MemberData(nameof(FhirPathAttacks))]
    public async Task FhirPathPatch_Refused_Unchanged(string patch, HttpStatusCode status, string code)
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17", value: 70));
        var (_, before) = await env.Fhir.GetAsync($"Observation/{id}");
        var token = await WriterFor("10017", labels: Labels("N"));
        using var response = await SendAsync("PATCH", $"Observation/{id}", token, patch);
        Assert.Equal(status, response.StatusCode);
        await response.AssertOutcomeAsync(code);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(before!["meta"]!["versionId"]!.GetValue<string>(), stored!["meta"]!["versionId"]!.GetValue<string>());
        Assert.Equal("Patient/p17", stored["subject"]!["reference"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task PatchOrDelete_NothingStored_404_NothingForwarded(string method)
    {
        var id = NewId("none");
        var token = await WriterFor("10017");
        var before = await env.FhirCountAsync($"{method} Observation read");
        using var response = await SendAsync(method, $"Observation/{id}", token,
            method == "PATCH" ? "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"final\"}]" : null, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.AssertOutcomeAsync("not-found");
        Assert.Equal(before, await env.FhirCountAsync($"{method} Observation read"));
    }

    [Fact]
    public async Task Patch_OtherMediaType_415_Unchanged()
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p17"));
        var token = await WriterFor("10017");
        using var response = await SendAsync("PATCH", $"Observation/{id}", token, "status=final", "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.AssertOutcomeAsync("not-supported");
    }

    [Theory]
    [InlineData("p17", "*", "\"*\"", true)] // the token's patient's: gone at the server
    [InlineData("p18", "*", "\"*\"", false)] // another patient's resource
    [InlineData("p17", "update", "\"*\"", false)] // no delete action
    [InlineData("p17", "*", "[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\"M\"}]", false)] // cannot see it (N)
    public async Task Delete(string patient, string action, string labels, bool permitted)
    {
        var id = NewId("w");
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, patient));
        var token = await WriterFor("10017", action: action, labels: labels);
        using var response = await SendAsync("DELETE", $"Observation/{id}", token);
        if (permitted)
        {
            Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
            Assert.Null(await StoredSubjectAsync("Observation", id));
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal($"Patient/{patient}", await StoredSubjectAsync("Observation", id));
        }
    }
    [Fact]
    public async Task Write_NoToken_401_NothingWritten()
    {
        var before = await env.Fhir.ObservationCountAsync("p17");
        using var response = await SendAsync("POST", "Observation", null, Obs("x", "p17"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, await env.Fhir.ObservationCountAsync("p17"));
    }

    [Fact]
    public async Task Write_ResultNotReadable_OutcomeInsteadOfResource()
    {
        var token = await WriterFor("10017", action: "create");
        using var response = await SendAsync("POST", "Observation", token, Obs("x", "p17", value: 123));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.NotNull(response.Headers.Location);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("OperationOutcome", text, StringComparison.Ordinal);
        Assert.DoesNotContain("123", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_TooLarge_413_NothingWritten()
    {
        await using var gateway = await env.StartGatewayAsync(("HEARTH_MAX_REQUEST_BYTES", "2048"));
        var token = await WriterFor("10017");
        var before = await env.Fhir.ObservationCountAsync("p17");
        using var request = new HttpRequestMessage(HttpMethod.Post, "Observation")
        {
            Content = new StringContent(Obs("x", "p17").Replace("\"written\"", "\"" + new string('x', 4000) + "\"", StringComparison.Ordinal), Encoding.UTF8, FhirJson),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, await env.Fhir.ObservationCountAsync("p17"));
    }

    [Fact]
    public async Task PatientWrittenThroughHearth_CachedIdentifierForgottenAtOnce()
    {
        // A Patient of its own, known to the cache as 98001, then re-identified through Hearth as 98002.
        var id = NewId("wp");
        var obs = NewId("w");
        await env.Fhir.PutAsync($"Patient/{id}", "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"98001\"}]}");
        await env.Fhir.PutAsync($"Observation/{obs}", Obs(obs, id));
        var oldToken = await WriterFor("98001");
        var newToken = await WriterFor("98002");
        using (var warm = await Client.GetWithTokenAsync($"Observation/{obs}", oldToken))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var both = await env.TokenAsync("[" + Permission("98001", action: "*") + "," + Permission("98002", action: "*") + "]");
        using (var update = await SendAsync("PUT", $"Patient/{id}", both,
            "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"98002\"}]}"))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        using var fresh = await Client.GetWithTokenAsync($"Observation/{obs}", newToken);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        using var old = await Client.GetWithTokenAsync($"Observation/{obs}", oldToken);
        Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
    }

    [Fact]
    public async Task Patient_IdentifierChangeToAnotherPatient_403_Unchanged()
    {
        var id = NewId("wp");
        await env.Fhir.PutAsync($"Patient/{id}", "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"98101\"}]}");
        var token = await WriterFor("98101");
        using var response = await SendAsync("PUT", $"Patient/{id}", token,
            "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Patient/{id}");
        Assert.Equal("98101", stored!["identifier"]![0]!["value"]!.GetValue<string>());
    }
}
