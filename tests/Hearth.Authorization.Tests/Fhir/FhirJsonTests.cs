using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

public class FhirJsonTests
{
    [Theory]
    [InlineData("{\"a\":\"plain\"}", true)]
    [InlineData("{\"a\":\"pair \\ud83d\\ude00 ok\"}", true)]
    [InlineData("{\"a\":\"escaped backslash \\\\ud800 is text\"}", true)]
    [InlineData("{\"a\":\"lone high \\ud800 here\"}", false)]
    [InlineData("{\"a\":\"lone high at end \\uD800\"}", false)]
    [InlineData("{\"a\":\"lone low \\udc00\"}", false)]
    [InlineData("{\"a\":\"reversed \\udc00\\ud800\"}", false)]
    [InlineData("{\"reference\":\"Patient/\\ud800\"}", false)]
    public void IsValidUnicode_Escapes(string json, bool valid)
        => Assert.Equal(valid, FhirJson.IsValidUnicode(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void IsValidUnicode_InvalidUtf8_False()
        => Assert.False(FhirJson.IsValidUnicode([(byte)'"', 0xFF, (byte)'"']));

    [Theory]
    [InlineData("{\"a\":\"x\\ud800y\"}", "x\ufffdy")]
    [InlineData("{\"a\":\"x\\udc00\\ud800y\"}", "x\ufffd\ufffdy")]
    [InlineData("{\"a\":\"\\ud83d\\ude00\"}", "\ud83d\ude00")]
    public void Sanitize_LoneSurrogates_Replaced_TheRestKept(string json, string expected)
    {
        var sanitized = FhirJson.Sanitize(Encoding.UTF8.GetBytes(json));
        var node = FhirJson.TryParse(sanitized)!;
        Assert.Equal(expected, node["a"]!.GetValue<string>());
        Assert.NotNull(node.ToJsonString()); // writable again
    }

    [Fact]
    public void Sanitize_InvalidUtf8_Replaced()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"a\":\"x_y\"}");
        bytes[7] = 0xFF;
        var node = FhirJson.TryParse(FhirJson.Sanitize(bytes))!;
        Assert.Equal("x\ufffdy", node["a"]!.GetValue<string>());
    }

    [Fact]
    public void Sanitize_ValidBytes_SameArray()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"a\":\"é\"}");
        Assert.Same(bytes, FhirJson.Sanitize(bytes));
    }

    [Fact]
    public void Utf8Length_IsTheCompactJsonLength()
    {
        var node = JsonNode.Parse("{ \"a\" : [1, 2, \"é\", \"a+b&c\"] }")!;
        Assert.Equal(Encoding.UTF8.GetByteCount(node.ToJsonString(FhirJson.Output)), FhirJson.Utf8Length(node)); // as Hearth writes it
    }

    [Fact]
    public void Output_CharactersAsTheyAre_EscapesWhereJsonNeedsThem()
    {
        var node = JsonNode.Parse("{\"a\":\"a+b&c<é>\\\"q\\\"\\u0001\"}")!;
        Assert.Equal("{\"a\":\"a+b&c<é>\\\"q\\\"\\u0001\"}", node.ToJsonString(FhirJson.Output));
    }
}

public class FhirJsonControlCharacterTests
{
    [Theory]
    [InlineData("{\"a\":\"x\\u0001y\"}", "x\ufffdy")]
    [InlineData("{\"a\":\"x\\by\\fz\"}", "x\ufffdy\ufffdz")]
    [InlineData("{\"a\":\"tab\\tline\\nreturn\\r\"}", "tab\tline\nreturn\r")]
    [InlineData("{\"a\":\"\\\\u0001 is text\"}", "\\u0001 is text")]
    public void Sanitize_ControlCharactersFhirStringsMayNotHold_Replaced(string json, string expected)
        => Assert.Equal(expected, FhirJson.TryParse(FhirJson.Sanitize(System.Text.Encoding.UTF8.GetBytes(json)))!["a"]!.GetValue<string>());

    [Fact]
    public void IsValidUnicode_ControlCharacters_StillValidUnicode()
        => Assert.True(FhirJson.IsValidUnicode("{\"a\":\"x\\u0001y\"}"u8));
}
