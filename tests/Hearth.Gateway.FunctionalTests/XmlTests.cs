using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// XML for clients: Hearth asks the FHIR server for JSON, judges JSON, and answers XML when asked
/// (Accept or _format); XML bodies are converted to JSON before they are judged and forwarded.
/// </summary>
[Collection(HearthCollection.Name)]
public class XmlTests(HearthEnvironment env)
{
    private static readonly XNamespace Fhir = "http://hl7.org/fhir";

    private HttpClient Client => env.Gateway.Client;

    private Task<string> Patient03TokenAsync() => env.TokenAsync("[" + Permission("10003", "*", action: "*", labels: Labels("N")) + "]");

    private async Task<(HttpResponseMessage Response, XDocument? Xml)> GetXmlAsync(string path, string? token, string accept = "application/fhir+xml")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.StartsWith('<') ? XDocument.Parse(text) : null);
    }

    [Fact]
    public async Task Read_AcceptXml_XmlResource()
    {
        var (response, xml) = await GetXmlAsync("Patient/p03", await Patient03TokenAsync());
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/fhir+xml", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Patient", xml!.Root!.Name.LocalName);
            Assert.Equal("p03", xml.Root.Element(Fhir + "id")!.Attribute("value")!.Value);
        }
    }

    [Fact]
    public async Task Search_FormatXml_RedactedAndLinksAtGateway()
    {
        var token = await Patient03TokenAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "Observation?subject=Patient/p03&_format=xml");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(env.FhirBase, text, StringComparison.Ordinal);
        var xml = XDocument.Parse(text);
        var ids = xml.Root!.Elements(Fhir + "entry").Select(e => e.Element(Fhir + "resource")!.Elements().First().Element(Fhir + "id")!.Attribute("value")!.Value).ToList();
        Assert.Equal(["obs-03-1"], ids); // obs-03-2 (R) and obs-03-3 (M) removed, as in JSON
        Assert.All(xml.Root.Elements(Fhir + "entry"), e => Assert.StartsWith(env.Gateway.BaseUrl, e.Element(Fhir + "fullUrl")!.Attribute("value")!.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Denied_AcceptXml_XmlOperationOutcome()
    {
        var (response, xml) = await GetXmlAsync("Patient/p04", await Patient03TokenAsync());
        using (response)
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("OperationOutcome", xml!.Root!.Name.LocalName);
            Assert.Equal("forbidden", xml.Root.Element(Fhir + "issue")!.Element(Fhir + "code")!.Attribute("value")!.Value);
        }

        var (noToken, noTokenXml) = await GetXmlAsync("Patient/p04", null);
        using (noToken)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
            Assert.Equal("OperationOutcome", noTokenXml!.Root!.Name.LocalName);
        }
    }

    private static string ObservationXml(string patient, string label)
        => "<Observation xmlns=\"http://hl7.org/fhir\"><meta><security><system value=\"" + Conf + "\"/><code value=\"" + label + "\"/></security></meta>"
           + "<status value=\"final\"/><code><text value=\"xml write\"/></code><subject><reference value=\"Patient/" + patient + "\"/></subject></Observation>";

    // Writes use p17 (the token's) and p18 (another's), which no read test searches.
    private Task<string> Patient17WriterAsync() => env.TokenAsync("[" + Permission("10017", "*", action: "*", labels: Labels("N")) + "]");

    [Fact]
    public async Task Create_XmlBody_JudgedAndStoredAsChecked()
    {
        using var created = await PostXmlAsync(ObservationXml("p17", "N"), await Patient17WriterAsync());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = created.Headers.Location!.ToString().Split("/Observation/")[1].Split('/')[0];
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal("Patient/p17", stored!["subject"]!["reference"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("p18", "N")] // another patient, in XML
    [InlineData("p17", "R")] // a label not granted, in XML
    public async Task Create_XmlBody_NotGranted_NothingCreated(string patient, string label)
    {
        var before = await env.Fhir.ObservationCountAsync(patient);
        using var response = await PostXmlAsync(ObservationXml(patient, label), await Patient17WriterAsync());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, await env.Fhir.ObservationCountAsync(patient));
    }

    [Theory]
    [InlineData("<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"")]
    [InlineData("<Observation xmlns=\"http://hl7.org/fhir\"><notAnElement value=\"1\"/></Observation>")]
    [InlineData("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Observation xmlns=\"http://hl7.org/fhir\"><status value=\"&e;\"/></Observation>")]
    public async Task Create_BadXml_400_NothingForwarded(string body)
    {
        var token = await Patient17WriterAsync();
        var before = await env.FhirTotalCountAsync();
        using var response = await PostXmlAsync(body, token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("root:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    private async Task<HttpResponseMessage> PostXmlAsync(string xml, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "Observation") { Content = new StringContent(xml, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+xml");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Client.SendAsync(request);
    }
}
