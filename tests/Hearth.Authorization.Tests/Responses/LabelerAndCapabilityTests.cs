using System.Text.Json.Nodes;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Tests.Responses;

public class LabelerAndCapabilityTests
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    private static JsonObject Bundle(params string?[] codes) => JsonNode.Parse("{\"resourceType\":\"Bundle\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"V\"}]},\"entry\":["
        + string.Join(",", codes.Select((c, i) => "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o" + i + "\""
            + (c is null ? "" : ",\"meta\":{\"security\":[" + (c == "" ? "" : "{\"system\":\"" + Conf + "\",\"code\":\"" + c + "\"}") + "]}") + "}}")) + "]}")!.AsObject();

    [Fact]
    public void HighWaterMark_ReplacesTheBundlesOwnConfidentiality()
    {
        var bundle = Bundle("L", "N", "M");
        Assert.True(new Labeler(TestSettings.Rules(("ENABLE_LABELING_SERVICE", "true"), ("ADD_HIGHT_WATER_MARK", "true"), ("ADD_DEFAULT_CONFIDENTIALITY_LABEL", "false"))).Apply(bundle));
        Assert.Equal("[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]", bundle["meta"]!["security"]!.ToJsonString());
    }

    [Fact]
    public void DefaultLabel_CountsTowardsTheHighWaterMark_OnlyOnLabelledResources()
    {
        var bundle = Bundle("", null, "L");
        new Labeler(TestSettings.Rules(("ENABLE_LABELING_SERVICE", "true"), ("ADD_HIGHT_WATER_MARK", "true"), ("DEFAULT_CONFIDENTIALITY_CODE", "R"))).Apply(bundle);
        Assert.Equal("R", bundle["entry"]![0]!["resource"]!["meta"]!["security"]![0]!["code"]!.GetValue<string>());
        Assert.Null(bundle["entry"]![1]!["resource"]!["meta"]);
        Assert.Equal("R", bundle["meta"]!["security"]![0]!["code"]!.GetValue<string>());
    }

    [Fact]
    public void Disabled_ChangesNothing()
    {
        var bundle = Bundle("", "L");
        var before = bundle.ToJsonString();
        Assert.False(new Labeler(TestSettings.Rules(("ADD_HIGHT_WATER_MARK", "true"))).Apply(bundle));
        Assert.Equal(before, bundle.ToJsonString());
    }

    [Fact]
    public void Capability_FormatsOnlyWhatHearthServes_KeepsExistingSecurity()
    {
        var statement = JsonNode.Parse("""
            {"resourceType":"CapabilityStatement","format":["json","xml","ttl","application/fhir+json"],
             "rest":[{"mode":"server","security":{"service":[{"text":"existing"}]}}]}
            """)!.AsObject();
        Assert.True(new CapabilityAugmenter(TestSettings.Create(("AUGMENT_CAPABILITY_STATEMENT", "true"))).Apply(statement));
        Assert.Equal(["json", "xml", "application/fhir+json", "application/fhir+xml"], statement["format"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(2, statement["rest"]![0]!["security"]!["service"]!.AsArray().Count);
    }

    [Fact]
    public void Capability_NotACapabilityStatement_OrOff_Untouched()
    {
        var other = JsonNode.Parse("{\"resourceType\":\"OperationOutcome\"}")!.AsObject();
        Assert.False(new CapabilityAugmenter(TestSettings.Create(("AUGMENT_CAPABILITY_STATEMENT", "true"))).Apply(other));
        var statement = JsonNode.Parse("{\"resourceType\":\"CapabilityStatement\",\"format\":[\"ttl\"]}")!.AsObject();
        Assert.False(new CapabilityAugmenter(TestSettings.Create()).Apply(statement));
        Assert.Equal("[\"ttl\"]", statement["format"]!.ToJsonString());
    }
}
