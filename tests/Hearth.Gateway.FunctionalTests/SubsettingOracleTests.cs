using System.Text.Json.Nodes;
using Hearth.Gateway.Formats;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Resource = Hl7.Fhir.Model.Resource;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// _summary and _elements on the JSON tree give what Firely's serializer gives (the reference: a
/// resource read into Firely's objects and written again with its masking), on every resource the
/// development FHIR server holds and on crafted ones with choices, primitives' extensions,
/// narrative, modifier extensions, contained resources and Bundles.
/// </summary>
[Collection(HearthCollection.Name)]
public class SubsettingOracleTests(HearthEnvironment env)
{
    private static readonly FhirJsonDeserializer Lenient = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));
    private static readonly FhirJsonSerializer Writer = new();

    public static TheoryData<string, string?> Modes => new()
    {
        { "true", null }, { "data", null }, { "text", null },
        { "false", "status" }, { "false", "name,birthDate" }, { "false", "value,code,contained" }, { "false", "entry,total" }, { "false", "subject,component" },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SameAsFirely(string summary, string? elements)
    {
        var subsetting = Subsetting.Parse([summary], elements is null ? [] : [elements], out var error);
        Assert.Null(error);
        var resources = (await ServerResources()).Concat(Crafted().Select(r => JsonNode.Parse(r)!.AsObject())).ToList();
        Assert.True(resources.Count > 100, $"{resources.Count} resources");
        foreach (var resource in resources)
        {
            var expected = WithoutSubsettedTags(JsonNode.Parse(Firely(subsetting!, resource.ToJsonString()))!.AsObject(), out _);
            var actual = WithoutSubsettedTags(JsonNode.Parse(subsetting!.Apply(resource.ToJsonString(), entries: false))!.AsObject(), out var tags);
            Assert.Equal(1, tags); // Firely tagged twice (two systems) and Hearth once more for _elements: now once, with the R4 system
            Assert.True(JsonNode.DeepEquals(expected, actual), $"{summary}/{elements}: {resource.ToJsonString()}\nFirely: {expected!.ToJsonString()}\nHearth: {actual!.ToJsonString()}");
        }
    }

    /// <summary>What Hearth did before: the resource through Firely's objects, with the SUBSETTED tag for _elements.</summary>
    private static string Firely(Subsetting subsetting, string json)
    {
        var poco = Lenient.Deserialize<Resource>(json);
        var subset = JsonNode.Parse(Writer.SerializeToString(poco, subsetting.Summary, subsetting.Elements is null ? null : [.. subsetting.Elements, "id", "meta"]))!.AsObject();
        if (subsetting.Elements is not null)
        {
            var meta = subset["meta"] as JsonObject ?? new JsonObject();
            var tags = meta["tag"] as JsonArray ?? new JsonArray();
            tags.Add(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", ["code"] = "SUBSETTED" });
            meta["tag"] = tags;
            subset["meta"] = meta;
        }

        return subset.ToJsonString();
    }

    /// <summary>
    /// The resource without its SUBSETTED tags, anywhere (Firely tags every resource inside too, and
    /// twice: with the R4 and an older system), tag or meta left empty by that removed; how many the
    /// root had.
    /// </summary>
    private static JsonObject WithoutSubsettedTags(JsonObject resource, out int root)
    {
        root = Strip(resource);
        return resource;
    }

    private static int Strip(JsonNode? node)
    {
        var removed = 0;
        if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                Strip(item);
            }
        }
        else if (node is JsonObject obj)
        {
            foreach (var (_, child) in obj.ToList())
            {
                Strip(child);
            }

            if (obj["meta"] is JsonObject meta && meta["tag"] is JsonArray tags)
            {
                foreach (var tag in tags.OfType<JsonObject>().Where(t => t["code"]?.GetValue<string>() == "SUBSETTED").ToList())
                {
                    removed += tag["system"]?.GetValue<string>() == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue" ? 1 : 100;
                    tags.Remove(tag);
                }

                if (tags.Count == 0)
                {
                    meta.Remove("tag");
                }

                if (meta.Count == 0)
                {
                    obj.Remove("meta");
                }
            }
        }

        return removed;
    }

    private async Task<List<JsonObject>> ServerResources()
    {
        var all = new List<JsonObject>();
        foreach (var type in new[] { "Patient", "Observation", "Condition", "Specimen", "Group", "Organization" })
        {
            var (_, bundle) = await env.Fhir.GetAsync(type + "?_count=200");
            all.AddRange(bundle!["entry"]?.AsArray().Select(e => e!["resource"]!.AsObject()) ?? []);
        }

        return all;
    }

    private static IEnumerable<string> Crafted()
    {
        yield return """{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"code":"x"}]},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"extension":[{"url":"http://e","valueString":"v"}],"modifierExtension":[{"url":"http://m","valueBoolean":true}],"identifier":[{"system":"s","value":"1","period":{"start":"2020"}}],"active":true,"name":[{"id":"n1","family":"F","given":["A","B"],"_given":[null,{"extension":[{"url":"http://g","valueCode":"c"}]}]}],"telecom":[{"system":"phone","value":"1"}],"gender":"female","_gender":{"id":"g"},"birthDate":"1970","_birthDate":{"extension":[{"url":"http://b","valueDateTime":"1970-01-01T10:00:00Z"}]},"address":[{"line":["x"],"city":"c"}],"maritalStatus":{"text":"M"},"contact":[{"name":{"family":"C"},"gender":"male"}],"link":[{"other":{"reference":"Patient/q"},"type":"seealso"}]}""";
        yield return """{"resourceType":"Observation","id":"o","status":"final","category":[{"coding":[{"system":"c","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"1","display":"d"}],"text":"t"},"subject":{"reference":"Patient/p","display":"P"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":1.50,"unit":"u","system":"http://unitsofmeasure.org","code":"/min"},"interpretation":[{"text":"i"}],"note":[{"text":"n"}],"component":[{"code":{"text":"a"},"valueCodeableConcept":{"text":"b"}},{"code":{"text":"c"},"valueString":"d","_valueString":{"extension":[{"url":"http://v","valueInteger":1}]}}],"contained":[{"resourceType":"Medication","id":"m","code":{"text":"med"},"status":"active"}]}""";
        yield return """{"resourceType":"MedicationRequest","id":"mr","status":"active","intent":"order","medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/p"},"dosageInstruction":[{"text":"twice","timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":5}}]}],"contained":[{"resourceType":"Medication","id":"m","code":{"text":"x"}}]}""";
        yield return """{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p"},"participant":[{"individual":{"reference":"Practitioner/d"}}],"period":{"start":"2020","end":"2021"},"hospitalization":{"dischargeDisposition":{"text":"home"}}}""";
        yield return """{"resourceType":"Bundle","id":"b","type":"collection","total":2,"link":[{"relation":"self","url":"http://x"}],"entry":[{"fullUrl":"http://x/Patient/p","resource":{"resourceType":"Patient","id":"p","gender":"male","birthDate":"1970","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">p</div>"}},"search":{"mode":"match"}},{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"v"}}]}""";
        yield return """{"resourceType":"Condition","id":"c","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"text":"c"},"subject":{"reference":"Patient/p"},"onsetAge":{"value":3,"unit":"a"},"evidence":[{"detail":[{"reference":"Observation/o"}]}],"note":[{"authorString":"me","text":"n"}]}""";
    }
}
