using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Hearth.Authorization.Responses;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Pauldron Hearth's labeling service (ENABLE_LABELING_SERVICE and friends), CapabilityStatement
/// augmentation (AUGMENT_CAPABILITY_STATEMENT) and Hearth's /.well-known/smart-configuration,
/// through real gateways to the real FHIR server.
/// </summary>
[Collection(HearthCollection.Name)]
public class LabelingAndCapabilityTests(HearthEnvironment env)
{
    private static List<string> Confidentiality(JsonNode? resource)
        => (resource?["meta"]?["security"]?.AsArray() ?? [])
            .Where(l => l?["system"]?.GetValue<string>() == Conf).Select(l => l!["code"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task HighWaterMark_OfWhatRemainsAfterRedaction()
    {
        await using var gateway = await env.StartGatewayAsync(("ENABLE_LABELING_SERVICE", "true"), ("ADD_HIGHT_WATER_MARK", "true"));
        var all = await env.TokenAsync("[" + Permission("10003") + "]");
        using (var everything = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", all))
        {
            var bundle = await everything.JsonAsync();
            Assert.Contains("obs-03-2", bundle.EntryIds()); // R
            Assert.Equal(["R"], Confidentiality(bundle));
        }

        var normalOnly = await env.TokenAsync("[" + Permission("10003", labels: Labels("N", "M")) + "]");
        using (var redacted = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", normalOnly))
        {
            var bundle = await redacted.JsonAsync();
            Assert.DoesNotContain("obs-03-2", bundle.EntryIds());
            Assert.Equal(["N"], Confidentiality(bundle));
        }

        using (var plain = await env.Gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03", all))
        {
            Assert.Empty(Confidentiality(await plain.JsonAsync())); // the service is off by default
        }
    }

    [Fact]
    public async Task DefaultConfidentiality_OnLabelledResourcesThatLackOne_NotOnNoLabelTypes()
    {
        var id = "lab-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"PSY\"}]},"
            + "\"status\":\"final\",\"code\":{\"text\":\"labelled\"},\"subject\":{\"reference\":\"Patient/p18\"}}");
        var token = await env.TokenAsync("[" + Permission("10018") + "]");

        await using (var labelling = await env.StartGatewayAsync(("ENABLE_LABELING_SERVICE", "true"), ("DEFAULT_CONFIDENTIALITY_CODE", "R")))
        {
            using var read = await labelling.Client.GetWithTokenAsync($"Observation/{id}", token);
            var resource = await read.JsonAsync();
            Assert.Equal(["R"], Confidentiality(resource));
            Assert.Contains(resource["meta"]!["security"]!.AsArray(), l => l!["code"]!.GetValue<string>() == "PSY");

            using var unlabelled = await labelling.Client.GetWithTokenAsync("Observation/obs-18-3", token);
            Assert.Null((await unlabelled.JsonAsync())["meta"]?["security"]); // had no labels at all: left alone
        }

        await using (var exempt = await env.StartGatewayAsync(("ENABLE_LABELING_SERVICE", "true"), ("NO_LABEL_RESOURCE_TYPES", "Observation")))
        {
            using var read = await exempt.Client.GetWithTokenAsync($"Observation/{id}", token);
            Assert.Empty(Confidentiality(await read.JsonAsync()));
        }
    }

    [Fact]
    public async Task CapabilityStatement_Augmented_SecurityServiceOAuthUrisGuideFormats()
    {
        await using var gateway = await env.StartGatewayAsync(("AUGMENT_CAPABILITY_STATEMENT", "true"));
        using var response = await gateway.Client.GetAsync("metadata");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var statement = await response.JsonAsync();
        var security = statement["rest"]![0]!["security"]!;
        Assert.Contains(security["service"]!.AsArray(), s => s!["coding"]![0]!["code"]!.GetValue<string>() == "OAuth"
            && s["coding"]![0]!["system"]!.GetValue<string>() == CapabilityAugmenter.SecurityServiceSystem);
        var uris = security["extension"]!.AsArray().Single(e => e!["url"]!.GetValue<string>() == CapabilityAugmenter.OAuthUrisExtension)!["extension"]!.AsArray();
        Assert.Equal(env.AuthBase + "/authorization", uris.Single(u => u!["url"]!.GetValue<string>() == "authorize")!["valueUri"]!.GetValue<string>());
        Assert.Equal(env.AuthBase + "/authorization", uris.Single(u => u!["url"]!.GetValue<string>() == "token")!["valueUri"]!.GetValue<string>());
        Assert.Contains(CapabilityAugmenter.Ds4pGuide, statement["implementationGuide"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Equal(["json", "application/fhir+json", "application/fhir+xml"], statement["format"]!.AsArray().Select(f => f!.GetValue<string>()));

        using var request = new HttpRequestMessage(HttpMethod.Get, "metadata");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+xml"));
        using var xml = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, xml.StatusCode);
        var document = XDocument.Parse(await xml.Content.ReadAsStringAsync());
        Assert.Contains(document.Descendants(), e => e.Name.LocalName == "implementationGuide" && (string?)e.Attribute("value") == CapabilityAugmenter.Ds4pGuide);

        using var plain = await env.Gateway.Client.GetAsync("metadata");
        Assert.Null((await plain.JsonAsync())["implementationGuide"]); // off by default
    }

    [Theory]
    [InlineData("true", "urn:ietf:params:oauth:grant-type:uma-ticket")]
    [InlineData("false", "client_credentials")]
    public async Task SmartConfiguration_Augmenting_ServedByHearth_NoToken_FhirServerNotAsked(string uma, string grant)
    {
        await using var gateway = await env.StartGatewayAsync(("UMA_MODE", uma), ("AUGMENT_CAPABILITY_STATEMENT", "true"));
        var before = await env.FhirTotalCountAsync();
        using var response = await gateway.Client.GetAsync(".well-known/smart-configuration");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(env.AuthBase + "/authorization", document["authorization_endpoint"]!.GetValue<string>());
        Assert.Equal(env.AuthBase + "/authorization", document["token_endpoint"]!.GetValue<string>());
        Assert.Equal([grant], document["grant_types_supported"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Equal(before, await env.FhirTotalCountAsync());
    }

    [Fact]
    public async Task SmartConfiguration_NotAugmenting_ForwardedAsTheFhirServerAnswers()
    {
        var before = await env.FhirTotalCountAsync();
        using var response = await env.Gateway.Client.GetAsync(".well-known/smart-configuration");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // the dev FHIR server has none: its OperationOutcome passes
        var outcome = await response.JsonAsync();
        Assert.Equal("OperationOutcome", outcome["resourceType"]!.GetValue<string>());
        Assert.Equal("not-found", outcome["issue"]![0]!["code"]!.GetValue<string>());
        Assert.Equal(before + 1, await env.FhirTotalCountAsync());
    }
}
