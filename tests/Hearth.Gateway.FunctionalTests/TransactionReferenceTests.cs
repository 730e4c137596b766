using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// References between transaction entries are resolved as the FHIR server resolves them. The
/// attack: a token that may update patient p02's Patient and create Observations only for p01
/// PATCHes Patient/p02 under fullUrl U and creates an Observation whose subject is U (performer
/// p01). Hearth read U as the PATCH entry's Parameters ("no patient"); Medplum reads it as
/// Patient/p02 and files the Observation under p02.
/// </summary>
[Collection(HearthCollection.Name)]
public class TransactionReferenceTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private Task<string> AttackerAsync()
        => env.TokenAsync("[" + Permission("10002", "Patient", "*") + "," + Permission("10001", "Observation", "create") + "]");

    private static string Urn() => "urn:uuid:" + Guid.NewGuid();

    private static JsonObject ObservationEntry(string subject, string marker)
        => new()
        {
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\","
                + "\"code\":{\"text\":\"" + marker + "\"},\"subject\":{\"reference\":\"" + subject + "\"},\"performer\":[{\"reference\":\"Patient/p01\"}]}"),
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Observation" },
        };

    private async Task<int> StoredWithMarkerAsync(string marker)
    {
        var (_, bundle) = await env.Fhir.GetAsync($"Observation?code:text={marker}&_count=100");
        return bundle!["entry"]?.AsArray().Count ?? 0;
    }

    public static TheoryData<string> WritesOfPatient2 => ["PATCH", "PUT", "DELETE"];

    [Theory]
    [MemberData(nameof(WritesOfPatient2))]
    public async Task Transaction_FullUrlOfAWriteToAnotherPatient_StandsForThatPatient_RefusedWhole(string method)
    {
        var urn = Urn();
        var marker = "tr-" + Guid.NewGuid().ToString("N")[..10];
        var write = new JsonObject { ["fullUrl"] = urn, ["request"] = new JsonObject { ["method"] = method, ["url"] = "Patient/p02" } };
        if (method == "PATCH")
        {
            write["resource"] = new JsonObject
            {
                ["resourceType"] = "Binary",
                ["contentType"] = "application/json-patch+json",
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("[{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"male\"}]")),
            };
        }
        else if (method == "PUT")
        {
            var (_, stored) = await env.Fhir.GetAsync("Patient/p02");
            stored!.Remove("meta");
            write["resource"] = stored;
        }

        using var response = await Client.PostBundleAsync("transaction", await AttackerAsync(), write, ObservationEntry(urn, marker));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await StoredWithMarkerAsync(marker));
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync("Patient/p02")).Status);
    }

    [Fact]
    public async Task Transaction_SubjectNamedDirectly_AlsoRefused()
    {
        var marker = "tr-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await Client.PostBundleAsync("transaction", await AttackerAsync(), ObservationEntry("Patient/p02", marker));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await StoredWithMarkerAsync(marker));
    }

    [Fact]
    public async Task Transaction_FullUrlOfTheTokensOwnPatientWrite_Works()
    {
        var urn = Urn();
        var marker = "tr-" + Guid.NewGuid().ToString("N")[..10];
        var token = await env.TokenAsync("[" + Permission("10001", "Patient", "*") + "," + Permission("10001", "Observation", "create") + "]");
        var patch = new JsonObject
        {
            ["fullUrl"] = urn,
            ["resource"] = new JsonObject
            {
                ["resourceType"] = "Binary",
                ["contentType"] = "application/json-patch+json",
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("[{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"female\"}]")),
            },
            ["request"] = new JsonObject { ["method"] = "PATCH", ["url"] = "Patient/p01" },
        };
        using var response = await Client.PostBundleAsync("transaction", token, patch, ObservationEntry(urn, marker));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await StoredWithMarkerAsync(marker));
        var (_, stored) = await env.Fhir.GetAsync($"Observation?code:text={marker}");
        Assert.Equal("Patient/p01", stored!["entry"]![0]!["resource"]!["subject"]!["reference"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Patient/p01")]
    [InlineData("{fhir}/Patient/p01")]
    public async Task Transaction_CreateWhoseFullUrlNamesAnAddressHere_Refused(string fullUrl)
    {
        var token = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        var create = new JsonObject
        {
            ["fullUrl"] = fullUrl.Replace("{fhir}", env.FhirBase, StringComparison.Ordinal),
            ["resource"] = JsonNode.Parse("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}"),
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = "Patient" },
        };
        var before = await env.FhirTotalCountAsync();
        using var response = await Client.PostBundleAsync("transaction", token, create);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("fullUrl", await response.AssertOutcomeAsync("invalid"), StringComparison.Ordinal);
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }
}
