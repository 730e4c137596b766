using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

/// <summary>
/// The element inspector (what judges an answer read from bytes) gives exactly the facts of the
/// node inspector (the rules' first reader) on every resource of every table in these tests, and
/// on each of them broken in every place the rules look at: labels, compartment references,
/// contained and embedded resources, Bundles, Parameters, JSON nulls and wrong kinds.
/// </summary>
public class ElementInspectorTests
{
    private const string Conf = TestSettings.Conf;

    public static IEnumerable<object[]> Corpus()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var json in TableResources().Concat(Crafted()).Concat(Crafted().SelectMany(Broken)))
        {
            if (seen.Add(json))
            {
                yield return [json];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void SameFactsAsTheNodeInspector(string json)
    {
        var rules = TestSettings.Rules(("HEARTH_GATEWAY_BASE", "https://gw.example/fhir"));
        var local = new Dictionary<string, LocalTarget>
        {
            ["urn:uuid:new-patient"] = LocalTarget.Created(JsonNode.Parse("""{"resourceType":"Patient","identifier":[{"system":"urn:official:id","value":"10009"}]}""")!.AsObject()),
            ["urn:uuid:existing"] = LocalTarget.Ambiguous,
        };
        using var document = JsonDocument.Parse(json, FhirJson.DocumentOptions);
        foreach (var embedded in new[] { true, false })
        {
            foreach (var targets in new[] { null, local })
            {
                var byNodes = new ResourceInspector(rules).Inspect(JsonNode.Parse(json, documentOptions: FhirJson.DocumentOptions), targets, embedded);
                var byElements = new ElementInspector(rules).Inspect(document.RootElement, targets, embedded);
                Assert.Equal(Describe(byNodes), Describe(byElements));
            }
        }
    }

    [Fact]
    public void TheCorpusIsLarge_AndReachesEveryKindOfLink()
    {
        var rules = TestSettings.Rules();
        var facts = Corpus().Select(c => new ResourceInspector(rules).Inspect(JsonNode.Parse((string)c[0]))).ToList();
        Assert.True(facts.Count > 300, $"{facts.Count} resources");
        Assert.Contains(facts, f => f is null);
        foreach (var kind in Enum.GetValues<PatientLinkKind>())
        {
            Assert.Contains(facts, f => f?.PatientLink == kind);
        }

        Assert.Contains(facts, f => f?.Parts.Count > 1);
        Assert.Contains(facts, f => f?.SecurityContexts.Count > 0);
        Assert.Contains(facts, f => f?.InlinePatients.Count > 0);
    }

    /// <summary>Every resource in the tables of this assembly (any string argument of a TheoryData that is a JSON resource).</summary>
    private static IEnumerable<string> TableResources()
    {
        var members = typeof(ElementInspectorTests).Assembly.GetTypes()
            .Where(t => t != typeof(ElementInspectorTests))
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Static))
            .Where(p => typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType) && p.PropertyType != typeof(string) && p.GetIndexParameters().Length == 0);
        foreach (var member in members)
        {
            if (member.GetValue(null) is not System.Collections.IEnumerable rows)
            {
                continue;
            }

            foreach (var row in rows)
            {
                if (row is object[] values)
                {
                    foreach (var text in values.OfType<string>().Where(IsResource))
                    {
                        yield return text;
                    }
                }
            }
        }
    }

    private static bool IsResource(string text)
    {
        try
        {
            return text.TrimStart().StartsWith('{') && JsonNode.Parse(text, documentOptions: FhirJson.DocumentOptions) is JsonObject o && o.ContainsKey("resourceType");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Meta(string code) => "\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + code + "\"},{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"HIV\"}]}";

    private static IEnumerable<string> Crafted()
    {
        var observation = "{\"resourceType\":\"Observation\",\"id\":\"o\"," + Meta("R") + ",\"subject\":{\"reference\":\"Patient/p1\",\"display\":\"x\"},\"performer\":[{\"reference\":\"Practitioner/d\"},{\"reference\":\"Patient/p2\"}],\"status\":\"final\"}";
        yield return observation;
        yield return "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"},{\"value\":\"\"},{\"system\":\"s\"}]}";
        yield return "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"reference\":\"http://fhir.example/fhir/Patient/p3\"},\"participant\":[{\"individual\":{\"reference\":\"https://gw.example/fhir/Patient/p4\"}}]}";
        yield return "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"#pt\",\"type\":\"Patient\"},\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pt\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10002\"}]},{\"resourceType\":\"Observation\",\"id\":\"c\",\"subject\":{\"reference\":\"Patient/p5\"}," + Meta("V") + "}]}";
        yield return "{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"urn:uuid:new-patient\"},\"performer\":[{\"reference\":\"urn:uuid:existing\"}]}";
        yield return "{\"resourceType\":\"Observation\",\"subject\":{\"identifier\":{\"system\":\"urn:official:id\",\"value\":\"1\"}}}";
        yield return "{\"resourceType\":\"Observation\",\"subject\":{\"display\":\"someone\"}}";
        yield return "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"securityContext\":{\"reference\":\"DocumentReference/d1\"}}";
        yield return "{\"resourceType\":\"Binary\",\"securityContext\":{\"reference\":\"Patient/p1\"}," + Meta("N") + "}";
        yield return "{\"resourceType\":\"Group\",\"member\":[{\"entity\":{\"reference\":\"Patient/p1\"}},{\"entity\":{\"reference\":\"Group/g2\"}}]}";
        yield return "{\"resourceType\":\"Medication\",\"id\":\"m\"}";
        yield return "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":" + observation + "},{\"fullUrl\":\"x\"},{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"q\"}},"
                     + "{\"response\":{\"status\":\"200\",\"outcome\":{\"resourceType\":\"OperationOutcome\",\"issue\":[]}}}]}";
        yield return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"a\",\"resource\":" + observation + "},{\"name\":\"b\",\"part\":[{\"name\":\"c\",\"resource\":{\"resourceType\":\"Patient\"}},{\"name\":\"d\",\"part\":[]}]}]}";
        yield return "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":" + observation + "}]}}]}}]}";
    }

    /// <summary>
    /// <paramref name="json"/> broken at each place: every member in turn set to null, to a number,
    /// to an array of arrays, to an object with an unknown member, and removed.
    /// </summary>
    private static IEnumerable<string> Broken(string json)
    {
        var root = JsonNode.Parse(json)!;
        var paths = new List<List<object>>();
        Paths(root, [], paths);
        foreach (var path in paths)
        {
            foreach (var replacement in new JsonNode?[] { null, JsonValue.Create(7), new JsonArray(new JsonArray()), new JsonObject { ["unknown"] = 1 }, JsonValue.Create("#") })
            {
                var copy = JsonNode.Parse(json)!;
                Set(copy, path, replacement?.DeepClone());
                yield return copy.ToJsonString();
            }
        }
    }

    private static void Paths(JsonNode? node, List<object> at, List<List<object>> paths)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o)
                {
                    paths.Add([.. at, name]);
                    Paths(child, [.. at, name], paths);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    paths.Add([.. at, i]);
                    Paths(a[i], [.. at, i], paths);
                }

                break;
        }
    }

    private static void Set(JsonNode root, List<object> path, JsonNode? value)
    {
        var parent = path.Take(path.Count - 1).Aggregate(root, (n, step) => step is string s ? n[s]! : n[(int)step]!);
        if (path[^1] is string name)
        {
            parent[name] = value;
        }
        else
        {
            parent[(int)path[^1]] = value;
        }
    }

    private static string Describe(ResourceFacts? facts) => facts is null ? "null" : string.Join(" | ",
        facts.ResourceType,
        string.Join(",", facts.Labels.Select(l => l.System + "#" + l.Code)),
        facts.PatientLink,
        string.Join(",", facts.PatientReferences),
        string.Join(";", facts.InlinePatients.Select(p => string.Join(",", p.Select(i => i.System + "|" + i.Value)))),
        string.Join(",", facts.SecurityContexts),
        facts.SelfReference ?? "-",
        facts.Resource is null ? "no resource" : "resource",
        "[" + string.Join(" ; ", facts.Parts.Select(Describe)) + "]");
}
