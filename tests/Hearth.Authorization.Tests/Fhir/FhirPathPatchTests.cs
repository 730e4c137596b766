using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

public class FhirPathPatchTests
{
    private const string Observation = """
        {"resourceType":"Observation","id":"o1","meta":{"versionId":"3","project":"medplum-only"},"status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"1"},{"system":"urn:s","code":"2"}]},
         "subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5,"unit":"kg"},
         "performer":[{"reference":"Practitioner/a"},{"reference":"Practitioner/b"}],
         "component":[{"code":{"text":"c"},"valueString":"x"}]}
        """;

    private const string Patient = """
        {"resourceType":"Patient","id":"p1","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"urn:x","valueString":"y"}]},
         "name":[{"use":"official","family":"F","given":["A","B","C"],"_given":[null,{"id":"b"},null]},{"use":"nickname","given":["Z"]}]}
        """;

    private static string Op(string type, string path, params string[] parts)
    {
        var all = new List<string> { $$"""{"name":"type","valueCode":"{{type}}"}""", $$"""{"name":"path","valueString":{{JsonValue.Create(path).ToJsonString()}}}""" };
        all.AddRange(parts);
        return $$"""{"name":"operation","part":[{{string.Join(",", all)}}]}""";
    }

    private static string Patch(params string[] operations) => $$"""{"resourceType":"Parameters","parameter":[{{string.Join(",", operations)}}]}""";

    private static JsonObject? Apply(string resource, string patch, out string? error) =>
        FhirPathPatch.Apply(JsonNode.Parse(resource)!.AsObject(), Encoding.UTF8.GetBytes(patch), out error);

    private static JsonObject Applied(string resource, string patch)
    {
        var result = Apply(resource, patch, out var error);
        Assert.True(result is not null, error);
        return result!;
    }

    [Fact]
    public void Replace_SelectsByFilter_ChangesOnlyThatElement()
    {
        var result = Applied(Observation, Patch(Op("replace", "Observation.code.coding.where(system='urn:s').code", """{"name":"value","valueCode":"9"}""")));
        Assert.Equal("1", (string?)result["code"]!["coding"]![0]!["code"]);
        Assert.Equal("9", (string?)result["code"]!["coding"]![1]!["code"]);
    }

    [Fact]
    public void Replace_Reference_MovesTheResourceToAnotherPatient()
    {
        var result = Applied(Observation, Patch(Op("replace", "Observation.subject", """{"name":"value","valueReference":{"reference":"Patient/p2"}}""")));
        Assert.Equal("Patient/p2", (string?)result["subject"]!["reference"]);
    }

    [Fact]
    public void Replace_ChoiceElement_ChangesItsType()
    {
        var result = Applied(Observation, Patch(Op("replace", "Observation.value", """{"name":"value","valueString":"high"}""")));
        Assert.False(result.ContainsKey("valueQuantity"));
        Assert.Equal("high", (string?)result["valueString"]);
    }

    [Fact]
    public void Add_ToList_Appends_AndToSingle_Sets()
    {
        var result = Applied(Observation, Patch(
            Op("add", "Observation", """{"name":"name","valueString":"performer"}""", """{"name":"value","valueReference":{"reference":"Patient/p9"}}"""),
            Op("add", "Observation", """{"name":"name","valueString":"focus"}""", """{"name":"value","valueReference":{"reference":"Patient/p8"}}"""),
            Op("add", "Observation", """{"name":"name","valueString":"effective"}""", """{"name":"value","valueDateTime":"2020-01-01"}""")));
        Assert.Equal(3, result["performer"]!.AsArray().Count);
        Assert.Equal("Patient/p9", (string?)result["performer"]![2]!["reference"]);
        Assert.Equal("Patient/p8", (string?)result["focus"]![0]!["reference"]); // focus is a list in R4
        Assert.Equal("2020-01-01", (string?)result["effectiveDateTime"]);
    }

    [Fact]
    public void Add_BackboneElement_FromParts()
    {
        var result = Applied(Observation, Patch(Op("add", "Observation", """{"name":"name","valueString":"component"}""",
            """{"name":"value","part":[{"name":"code","valueCodeableConcept":{"text":"d"}},{"name":"value","valueQuantity":{"value":1}},{"name":"interpretation","valueCodeableConcept":{"text":"i"}}]}""")));
        var added = result["component"]![1]!;
        Assert.Equal("d", (string?)added["code"]!["text"]);
        Assert.Equal(1, (int?)added["valueQuantity"]!["value"]);
        Assert.Equal("i", (string?)added["interpretation"]![0]!["text"]);
    }

    [Fact]
    public void Insert_Move_Delete_OnPrimitiveList_KeepExtensionsAligned()
    {
        var inserted = Applied(Patient, Patch(Op("insert", "Patient.name[0].given", """{"name":"value","valueString":"N"}""", """{"name":"index","valueInteger":1}""")));
        Assert.Equal("""["A","N","B","C"]""", inserted["name"]![0]!["given"]!.ToJsonString());
        Assert.Equal("b", (string?)inserted["name"]![0]!["_given"]![2]!["id"]);

        var moved = Applied(Patient, Patch(Op("move", "Patient.name[0].given", """{"name":"source","valueInteger":1}""", """{"name":"destination","valueInteger":0}""")));
        Assert.Equal("""["B","A","C"]""", moved["name"]![0]!["given"]!.ToJsonString());
        Assert.Equal("b", (string?)moved["name"]![0]!["_given"]![0]!["id"]);

        var deleted = Applied(Patient, Patch(Op("delete", "Patient.name[0].given[1]")));
        Assert.Equal("""["A","C"]""", deleted["name"]![0]!["given"]!.ToJsonString());
        Assert.False(deleted["name"]![0]!.AsObject().ContainsKey("_given")); // only nulls were left
    }

    [Fact]
    public void Delete_Primitive_RemovesItsExtensionsToo_AndNoMatchIsNoChange()
    {
        var result = Applied(Patient, Patch(Op("delete", "Patient.birthDate"), Op("delete", "Patient.gender")));
        Assert.False(result.ContainsKey("birthDate"));
        Assert.False(result.ContainsKey("_birthDate"));
        Assert.True(result.ContainsKey("name"));
    }

    [Fact]
    public void Delete_LastItem_RemovesTheList()
    {
        var result = Applied(Patient, Patch(Op("delete", "Patient.name.where(use='nickname').given")));
        Assert.False(result["name"]![1]!.AsObject().ContainsKey("given"));
    }

    [Fact]
    public void Operations_ApplyInOrder_AndKeepUnknownContent()
    {
        var result = Applied(Observation, Patch(
            Op("delete", "Observation.performer[0]"),
            Op("replace", "Observation.performer[0]", """{"name":"value","valueReference":{"reference":"Patient/p3"}}""")));
        Assert.Equal("""[{"reference":"Patient/p3"}]""", result["performer"]!.ToJsonString());
        Assert.Equal("medplum-only", (string?)result["meta"]!["project"]);
    }

    [Fact]
    public void ExtensionFunction_And_Contained_AreReachable()
    {
        const string resource = """
            {"resourceType":"Observation","id":"o2","status":"final","code":{"text":"t"},
             "extension":[{"url":"urn:a","valueString":"1"},{"url":"urn:b","valueString":"2"}],
             "contained":[{"resourceType":"Patient","id":"c1","name":[{"family":"Old"}]}]}
            """;
        var result = Applied(resource, Patch(
            Op("replace", "Observation.extension('urn:b').value", """{"name":"value","valueString":"3"}"""),
            Op("replace", "Observation.contained.ofType(Patient).name.family", """{"name":"value","valueString":"New"}""")));
        Assert.Equal("3", (string?)result["extension"]![1]!["valueString"]);
        Assert.Equal("New", (string?)result["contained"]![0]!["name"]![0]!["family"]);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("""[{"op":"add"}]""", "Parameters")]
    [InlineData("""{"resourceType":"Parameters","parameter":[]}""", "Parameters")]
    [InlineData("""{"resourceType":"Parameters","parameter":[{"name":"other"}]}""", "'operation'")]
    public void Malformed_IsRefusedWithReason(string patch, string reason)
    {
        Assert.Null(Apply(Observation, patch, out var error));
        Assert.Contains(reason, error);
    }

    public static TheoryData<string, string> Refused => new()
    {
        { Op("bogus", "Observation.id"), "'type'" },
        { Op("replace", "Observation.subject"), "needs 'value'" },
        { Op("replace", "Observation.subject", """{"name":"value","valueReference":{}}""", """{"name":"extra","valueString":"x"}"""), "unknown part" },
        { Op("replace", "Observation.performer", """{"name":"value","valueReference":{"reference":"Patient/p2"}}"""), "more than one" },
        { Op("replace", "Observation.focus", """{"name":"value","valueReference":{"reference":"Patient/p2"}}"""), "nothing to replace" },
        { Op("replace", "Observation", """{"name":"value","valueString":"x"}"""), "resource itself" },
        { Op("delete", "Observation"), "resource itself" },
        { Op("replace", "Observation.subject", """{"name":"value","valueString":"Patient/p2"}"""), "cannot be the value" },
        { Op("add", "Observation", """{"name":"name","valueString":"subject"}""", """{"name":"value","valueReference":{"reference":"Patient/p2"}}"""), "already has a value" },
        { Op("add", "Observation", """{"name":"name","valueString":"value"}""", """{"name":"value","valueString":"x"}"""), "already has a value" },
        { Op("add", "Observation", """{"name":"name","valueString":"nonsense"}""", """{"name":"value","valueString":"x"}"""), "no element" },
        { Op("add", "Observation", """{"name":"name","valueString":"resourceType"}""", """{"name":"value","valueString":"Patient"}"""), "no element" },
        { Op("add", "Observation.status", """{"name":"name","valueString":"id"}""", """{"name":"value","valueString":"x"}"""), "primitive" },
        { Op("insert", "Observation.performer", """{"name":"value","valueReference":{}}""", """{"name":"index","valueInteger":5}"""), "outside the list" },
        { Op("insert", "Observation.performer[0]", """{"name":"value","valueReference":{}}""", """{"name":"index","valueInteger":0}"""), "all items of one list" },
        { Op("insert", "Observation.focus", """{"name":"value","valueReference":{}}""", """{"name":"index","valueInteger":0}"""), "non-empty list" },
        { Op("move", "Observation.performer", """{"name":"source","valueInteger":0}""", """{"name":"destination","valueInteger":2}"""), "within the list" },
        { Op("replace", "Observation.subject.reference.substring(0)", """{"name":"value","valueString":"x"}"""), "does not evaluate" },
        { Op("delete", "descendants().where(reference='Patient/p1')"), "does not evaluate" },
        { Op("delete", "Observation.performer.where(%resource.subject.exists())"), "does not evaluate" },
        { Op("delete", "Observation.subject.resolve()"), "does not evaluate" },
        { Op("delete", "Observation.code.text.matches('(a+)+$')"), "does not evaluate" },
        { Op("delete", "Observation.((("), "not a FHIRPath expression" },
        { Op("delete", "'Observation.subject'"), "not an element" },
        { Op("delete", "Observation.performer.count()"), "not an element" },
        { Op("replace", "Observation.subject", """{"name":"value","valueReference":{"reference":"Patient/p2"},"_valueReference":{}}"""), "not supported" },
        { Op("delete", new string('x', 1001)), "longer than" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_WithReason_NeverAppliedHalfway(string operation, string reason)
    {
        var original = JsonNode.Parse(Observation)!.AsObject();
        var copy = original.DeepClone();
        var result = FhirPathPatch.Apply(original, Encoding.UTF8.GetBytes(Patch(operation)), out var error);
        Assert.Null(result);
        Assert.Contains(reason, error);
        Assert.True(JsonNode.DeepEquals(copy, original), "the stored resource must not be changed");
    }
}

/// <summary>The bounds of a FHIRPath Patch: checked on the patch alone, before any stored data is touched.</summary>
public class FhirPathPatchBoundsTests
{
    private const string Observation = """{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}""";

    private static string Op(string type, string path, params string[] parts)
    {
        var all = new List<string> { $$"""{"name":"type","valueCode":"{{type}}"}""", $$"""{"name":"path","valueString":{{JsonValue.Create(path).ToJsonString()}}}""" };
        all.AddRange(parts);
        return $$"""{"name":"operation","part":[{{string.Join(",", all)}}]}""";
    }

    private static byte[] Patch(IEnumerable<string> operations) => Encoding.UTF8.GetBytes($$"""{"resourceType":"Parameters","parameter":[{{string.Join(",", operations)}}]}""");

    [Theory]
    [InlineData(32, true)]
    [InlineData(33, false)]
    [InlineData(300, false)] // a few hundred levels overflow the FHIRPath parser's stack on a thread-pool thread: it must never see them
    public void Parse_BracketNesting_Bounded(int depth, bool accepted)
    {
        var path = new string('(', depth) + "Observation.subject" + new string(')', depth);
        var patch = FhirPathPatch.Parse(Patch([Op("delete", path)]), out var error);
        Assert.Equal(accepted, patch is not null);
        if (!accepted)
        {
            Assert.Contains("nests brackets", error);
        }
    }

    [Fact]
    public void Parse_BracketsInsideStringLiterals_DoNotCount()
    {
        var path = "Observation.code.where(text = '" + new string('(', 200) + "')";
        Assert.NotNull(FhirPathPatch.Parse(Patch([Op("delete", path)]), out _));
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void Parse_NumberOfOperations_Bounded(int count, bool accepted)
    {
        var patch = FhirPathPatch.Parse(Patch(Enumerable.Repeat(Op("delete", "Observation.focus"), count)), out var error);
        Assert.Equal(accepted, patch is not null);
        Assert.True(accepted || error!.Contains("at most 100"), error);
    }

    [Fact]
    public void Apply_ResultOverTheSizeLimit_Refused()
    {
        var note = $$"""{"name":"value","part":[{"name":"text","valueMarkdown":"{{new string('x', 400)}}"}]}""";
        var patch = FhirPathPatch.Parse(Patch(Enumerable.Repeat(Op("add", "Observation", """{"name":"name","valueString":"note"}""", note), 10)), out _)!;
        var resource = JsonNode.Parse(Observation)!.AsObject();
        Assert.NotNull(patch.Apply(resource, 100_000, out _));
        Assert.Null(patch.Apply(resource, 2_000, out var error));
        Assert.Contains("larger than 2000 bytes", error);
    }
}
