using System.Net;
using System.Text;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The fail-open corners the review found, closed: a deny of a patient by an identifier that is
/// not the designated one, a resource whose only label is of another system, compartment
/// references that are not plain References, and data that is not valid Unicode.
/// </summary>
[Collection(HearthCollection.Name)]
public class PermissionCornerTests(HearthEnvironment env)
{
    private const string ActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

    private HttpClient Client => env.Gateway.Client;

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private async Task<HttpStatusCode> ReadAsync(string path, string token)
    {
        using var response = await Client.GetWithTokenAsync(path, token);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("Patient/p02")]
    [InlineData("Observation/obs-02-1")]
    [InlineData("Condition/cond-02")]
    public async Task Deny_ByAnIdentifierThatIsNotTheDesignatedOne_ExcludesThePerson(string path)
    {
        // p02 is designated by urn:official:id|10002; the deny names its MRN.
        var token = await env.TokenAsync("[" + Permission("*") + "," + Permission("MRN-002", deny: true, system: "urn:mrn:hospital") + "]");
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync(path, token));
        Assert.Equal(HttpStatusCode.OK, await ReadAsync(path.Replace("02", "01", StringComparison.Ordinal), token));
    }

    [Theory]
    [InlineData("N", HttpStatusCode.Forbidden)]
    [InlineData("M", HttpStatusCode.OK)]
    public async Task OnlyALabelOfAnotherSystem_JudgedAsTheDefaultConfidentiality(string granted, HttpStatusCode expected)
    {
        var id = "act-" + Tag();
        await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + ActCode
            + "\",\"code\":\"HIV\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p01\"}}");
        Assert.Equal(expected, await ReadAsync($"Observation/{id}", await env.TokenAsync("[" + Permission("10001", labels: Labels(granted)) + "]")));
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Patient\",\"id\":\"p02\"}")] // Medplum files this under Patient/p02
    [InlineData("{\"reference\":42}")]
    [InlineData("{\"reference\":\"Patient/p01\",\"id\":\"p02\",\"resourceType\":\"Patient\"}")]
    public async Task Write_CompartmentElementThatIsNotAPlainReference_403_NothingStored(string subject)
    {
        var marker = "ref-" + Tag();
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        var body = "{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\""
                   + marker + "\"},\"subject\":" + subject + ",\"performer\":[{\"reference\":\"Patient/p01\"}]}";
        var before = await env.Fhir.ObservationCountAsync("p02");
        using var response = await Client.SendAsync("POST", "Observation", token, body);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, await env.Fhir.ObservationCountAsync("p02"));
        var (_, found) = await env.Fhir.GetAsync($"Observation?code:text={marker}");
        Assert.Null(found!["entry"]);
    }

    [Fact]
    public async Task Update_MovingTheTokensOwnResourceByAnObjectReference_403_Unchanged()
    {
        var id = "ref-" + Tag();
        string Body(string subject) => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},"
                                       + "\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":" + subject + "}";
        await env.Fhir.PutAsync($"Observation/{id}", Body("{\"reference\":\"Patient/p01\"}"));
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        using var response = await Client.SendAsync("PUT", $"Observation/{id}", token, Body("{\"resourceType\":\"Patient\",\"id\":\"p02\"}"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("Patient/p01", stored!["subject"]!["reference"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"code\":{\"text\":\"x\\ud800y\"},\"subject\":{\"reference\":\"Patient/p01\"}")]
    [InlineData("\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p01\\udc00\"}")]
    public async Task Write_NotValidUnicode_400_NothingCreated(string members)
    {
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.SendAsync("POST", "Observation", token, "{\"resourceType\":\"Observation\",\"status\":\"final\"," + members + "}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.AssertOutcomeAsync("structure");
        Assert.Equal(before, await env.FhirTotalCountAsync()); // not even a read
    }

    [Fact]
    public async Task Write_InvalidUtf8_400()
    {
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        var bytes = Encoding.UTF8.GetBytes("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x_y\"},\"subject\":{\"reference\":\"Patient/p01\"}}");
        bytes[Array.IndexOf(bytes, (byte)'_')] = 0xFF;
        using var request = new HttpRequestMessage(HttpMethod.Post, "Observation") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/fhir+json");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("x\\ud800y")] // a lone surrogate: Medplum stores it, and its JSON answer escapes it
    [InlineData("x\\u0001y")] // a control character FHIR strings may not hold (XML cannot carry it)
    public async Task StoredBadCharacter_ServedReplaced_OtherUsersSearchesUnbroken(string text)
    {
        // Written behind Hearth's back.
        var id = "bad-" + Tag();
        await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf
            + "\",\"code\":\"N\"}]},\"status\":\"final\",\"code\":{\"text\":\"" + text + "\"},\"subject\":{\"reference\":\"Patient/p01\"}}");
        var reader = await env.TokenAsync("[" + Permission("10001") + "]");

        // A search Hearth rebuilds (an entry removed): 200, the text replaced.
        using (var search = await Client.GetWithTokenAsync($"Observation?subject=Patient/p01&_count=200", await env.TokenAsync("[" + Permission("10001", labels: Labels("N")) + "]")))
        {
            Assert.Equal(HttpStatusCode.OK, search.StatusCode);
            var bundle = await search.JsonAsync();
            var entry = bundle["entry"]!.AsArray().Single(e => e!["resource"]!["id"]!.GetValue<string>() == id);
            Assert.Equal("x\ufffdy", entry!["resource"]!["code"]!["text"]!.GetValue<string>());
        }

        using var xml = await Client.SendAsync("GET", $"Observation/{id}", reader, accept: "application/fhir+xml");
        Assert.Equal(HttpStatusCode.OK, xml.StatusCode);
        Assert.Contains("x\ufffdy", await xml.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
