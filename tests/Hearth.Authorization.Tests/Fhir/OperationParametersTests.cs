using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

public class OperationParametersTests
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    private static JsonObject Meta(string list, params string[] codes)
        => Json("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{\"" + list + "\":["
                + string.Join(",", codes.Select(c => list == "profile" ? "\"" + c + "\"" : "{\"system\":\"" + Conf + "\",\"code\":\"" + c + "\"}")) + "]}}]}");

    private static readonly JsonObject Stored = Json("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\",\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}],\"profile\":[\"http://p/a\"]}}");

    private static List<string> Codes(JsonObject resource, string list)
        => (resource["meta"]?[list]?.AsArray() ?? []).Select(c => c is JsonObject o ? o["code"]!.GetValue<string>() : c!.GetValue<string>()).ToList();

    [Theory]
    [InlineData(true, "security", new[] { "R" }, new[] { "N", "R" })]
    [InlineData(true, "security", new[] { "N" }, new[] { "N" })] // already there: not twice
    [InlineData(false, "security", new[] { "N" }, new string[0])]
    [InlineData(false, "security", new[] { "R" }, new[] { "N" })] // not there: nothing removed
    [InlineData(true, "profile", new[] { "http://p/b" }, new[] { "http://p/a", "http://p/b" })]
    [InlineData(false, "profile", new[] { "http://p/a" }, new string[0])]
    public void ApplyMeta_AddsOrRemoves_OnACopy(bool add, string list, string[] codes, string[] expected)
    {
        var result = OperationParameters.ApplyMeta(Stored, Meta(list, codes), add, out var error);
        Assert.Null(error);
        Assert.Equal(expected, Codes(result!, list));
        Assert.Equal("3", result!["meta"]!["versionId"]!.GetValue<string>());
        Assert.Equal(["N"], Codes(Stored, "security")); // the stored resource itself is untouched
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Parameters\"}")]
    [InlineData("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueString\":\"x\"}]}")]
    [InlineData("{\"resourceType\":\"Observation\"}")]
    [InlineData("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{}},{\"name\":\"meta\",\"valueMeta\":{}}]}")]
    [InlineData("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{}},{\"name\":\"other\",\"valueString\":\"x\"}]}")]
    public void ApplyMeta_NotOneMeta_Refused(string body)
    {
        Assert.Null(OperationParameters.ApplyMeta(Stored, Json(body), add: true, out var error));
        Assert.Contains("one parameter, meta (valueMeta), and no other", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Primitives_AreWhatAQueryWouldCarry()
    {
        var primitives = OperationParameters.Primitives(Json(
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_type\",\"valueCode\":\"Observation\"},{\"name\":\"max\",\"valueInteger\":3},"
            + "{\"name\":\"x\",\"valueBoolean\":true},{\"name\":\"resource\",\"resource\":{\"resourceType\":\"Patient\"}}]}"))!;
        Assert.Equal(["_type=Observation", "max=3", "x=true"], primitives.Select(p => p.Key + "=" + p.Value.Single()));
        Assert.Null(OperationParameters.Primitives(Json("{\"resourceType\":\"Patient\"}")));
        Assert.Null(OperationParameters.Primitives(Json("{\"resourceType\":\"Parameters\",\"parameter\":[{\"valueString\":\"no name\"}]}")));
    }
}
