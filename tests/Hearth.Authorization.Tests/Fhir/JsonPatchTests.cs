using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

public class JsonPatchTests
{
    private const string Resource = """{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/a"}],"note":null}""";

    [Theory]
    [InlineData("""[{"op":"replace","path":"/subject/reference","value":"Patient/p2"}]""", "/subject/reference", "\"Patient/p2\"")]
    [InlineData("""[{"op":"add","path":"/performer/-","value":{"reference":"Patient/p2"}}]""", "/performer/1/reference", "\"Patient/p2\"")]
    [InlineData("""[{"op":"add","path":"/performer/0","value":{"reference":"Patient/p3"}}]""", "/performer/0/reference", "\"Patient/p3\"")]
    [InlineData("""[{"op":"remove","path":"/subject"}]""", "/subject", null)]
    [InlineData("""[{"op":"copy","from":"/subject","path":"/focus"}]""", "/focus/reference", "\"Patient/p1\"")]
    [InlineData("""[{"op":"move","from":"/subject","path":"/focus"}]""", "/focus/reference", "\"Patient/p1\"")]
    [InlineData("""[{"op":"test","path":"/id","value":"o1"},{"op":"replace","path":"/id","value":"o2"}]""", "/id", "\"o2\"")]
    [InlineData("""[{"op":"add","path":"/a~1b","value":1}]""", "/a~1b", "1")]
    [InlineData("""[{"op":"move","from":"/note","path":"/comment"}]""", "/comment", "null")]
    public void Apply_Valid_Result(string patch, string pointer, string? expected)
    {
        var result = JsonPatch.Apply(JsonNode.Parse(Resource)!.AsObject(), Encoding.UTF8.GetBytes(patch), out var error);
        Assert.Null(error);
        var found = Find(result!, pointer, out var value);
        if (expected is null)
        {
            Assert.False(found);
        }
        else
        {
            Assert.True(found);
            Assert.Equal(expected, value?.ToJsonString() ?? "null");
        }
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"op":"add"}""")]
    [InlineData("""[{"op":"replace","path":"/nope","value":1}]""")]
    [InlineData("""[{"op":"remove","path":"/performer/5"}]""")]
    [InlineData("""[{"op":"add","path":"/performer/01","value":1}]""")]
    [InlineData("""[{"op":"test","path":"/id","value":"other"}]""")]
    [InlineData("""[{"op":"move","from":"/subject","path":"/subject/x"}]""")]
    [InlineData("""[{"op":"remove","path":""}]""")]
    [InlineData("""[{"op":"replace","path":"","value":[]}]""")]
    [InlineData("""[{"op":"jump","path":"/id"}]""")]
    [InlineData("""[{"op":"add","path":"id","value":1}]""")]
    [InlineData("""[{"op":"add","path":"/x"}]""")]
    public void Apply_Invalid_NullWithReason(string patch)
    {
        Assert.Null(JsonPatch.Apply(JsonNode.Parse(Resource)!.AsObject(), Encoding.UTF8.GetBytes(patch), out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Apply_LeavesTheOriginalUntouched()
    {
        var original = JsonNode.Parse(Resource)!.AsObject();
        JsonPatch.Apply(original, Encoding.UTF8.GetBytes("""[{"op":"remove","path":"/subject"}]"""), out _);
        Assert.NotNull(original["subject"]);
    }

    private static bool Find(JsonNode node, string pointer, out JsonNode? value)
    {
        value = node;
        foreach (var segment in pointer[1..].Split('/').Select(s => s.Replace("~1", "/").Replace("~0", "~")))
        {
            if (value is JsonObject o && o.TryGetPropertyValue(segment, out var child))
            {
                value = child;
            }
            else if (value is JsonArray a && int.TryParse(segment, out var i) && i < a.Count)
            {
                value = a[i];
            }
            else
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The bounds of a JSON Patch: its operations counted when it is read, its growth counted while it is applied.</summary>
public class JsonPatchBoundsTests
{
    private const string Observation = """{"resourceType":"Observation","id":"o1","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]}}""";

    private static byte[] Copies(int count)
        => Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("""{"op":"copy","from":"/code","path":"/code/coding/-"}""", count)) + "]");

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void Parse_NumberOfOperations_Bounded(int count, bool accepted)
    {
        var patch = JsonPatch.Parse(Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("""{"op":"test","path":"/id","value":"o1"}""", count)) + "]"), out var error);
        Assert.Equal(accepted, patch is not null);
        Assert.True(accepted || error!.Contains("at most 100"), error);
    }

    [Fact]
    public void Apply_CopyThatDoublesEachTime_RefusedBeforeItOutgrowsTheLimit()
    {
        // 21 copies would make ~2^21 codings (hundreds of MB); the limit stops it on the way.
        var patch = JsonPatch.Parse(Copies(21), out _)!;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(patch.Apply(JsonNode.Parse(Observation)!.AsObject(), 1_000_000, out var error));
        Assert.Contains("larger than 1000000 bytes", error);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100_000_000, "refused on the way, not after building the whole result");
    }

    [Fact]
    public void Apply_WithinTheLimit_Applied()
    {
        var result = JsonPatch.Parse(Copies(3), out _)!.Apply(JsonNode.Parse(Observation)!.AsObject(), 1_000_000, out var error);
        Assert.Null(error);
        Assert.NotNull(result);
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/x"}]""")]
    [InlineData("""[{"op":"copy","path":"/x"}]""")]
    [InlineData("""[{"op":"test","path":"/x"}]""")]
    [InlineData("""[{"op":"jump","path":"/x"}]""")]
    public void Parse_MalformedOperation_RefusedWithoutAResource(string patch)
        => Assert.Null(JsonPatch.Parse(Encoding.UTF8.GetBytes(patch), out _));
}
