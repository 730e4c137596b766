using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Tests.Responses;

/// <summary>
/// Seeded random mutations of FHIR Bundles fed to the response filter: it never throws, and no
/// entry it keeps would be denied if judged alone.
/// </summary>
public class ResponseFilterMutationTests
{
    private const string Conf = TestSettings.Conf;

    private static readonly string[] Subjects = ["Patient/p1", "Patient/p2", "Patient/gone", "Group/g", "http://elsewhere/Patient/p1", "#c", "Patient/p1/_history/2", "", "urn:uuid:1"];
    private static readonly string[] Types = ["Observation", "Patient", "Organization", "Condition", "Bundle", "Nope", "observation"];
    private static readonly string[] LabelCodes = ["N", "R", "M", "V"];

    private static readonly Dictionary<string, PatientIdentifier?> Patients = new()
    {
        ["Patient/p1"] = new("urn:official:id", "10001"),
        ["Patient/p2"] = new("urn:official:id", "10002"),
    };

    private static readonly PermissionSet Permissions = PermissionSet.Parse(
        "[{\"resource_set_id\":{\"patientId\":{\"system\":\"urn:official:id\",\"value\":\"10001\"},\"resourceType\":\"*\"},\"scopes\":[{\"action\":\"read\",\"securityLabels\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"},{\"system\":\"" + Conf + "\",\"code\":\"M\"}]}]},"
        + "{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"Organization\"},\"scopes\":[\"read\"]},"
        + "{\"deny\":true,\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"Condition\"},\"scopes\":[\"read\"]}]");

    [Fact]
    public void Filter_RandomAndMutatedBundles_NeverThrows_NeverKeepsADeniedEntry()
    {
        var filter = new ResponseFilter(TestSettings.Rules());
        var random = new Random(20261122);
        var kept = 0;
        for (var i = 0; i < 3000; i++)
        {
            var bundle = RandomBundle(random);
            var text = bundle.ToJsonString();
            if (i % 3 == 1)
            {
                text = MutateText(random, text);
            }
            else if (i % 3 == 2)
            {
                MutateTree(random, bundle);
                text = bundle.ToJsonString();
            }

            var parsed = filter.Parse(Encoding.UTF8.GetBytes(text), judgeEntries: true);
            if (parsed is null)
            {
                continue; // not FHIR JSON: the gateway answers 502 and forwards nothing
            }

            var result = filter.Apply(parsed, TestResolution.Of(Resolve), Permissions, FhirAction.Read);
            if (result.Outcome == FilterOutcome.Denied)
            {
                continue;
            }

            var output = JsonNode.Parse(result.Body ?? text)!.AsObject();
            foreach (var entry in output["entry"] as JsonArray ?? [])
            {
                var alone = filter.Parse(Encoding.UTF8.GetBytes(entry!["resource"]!.ToJsonString()), judgeEntries: false);
                Assert.NotNull(alone);
                Assert.Equal(FilterOutcome.Permitted, filter.Apply(alone, TestResolution.Of(Resolve), Permissions, FhirAction.Read).Outcome);
                kept++;
            }
        }

        Assert.True(kept > 300, $"the generator should produce permitted entries too, kept {kept}");
    }

    private static PatientIdentifier? Resolve(string reference) => Patients.GetValueOrDefault(reference);

    private static JsonObject RandomBundle(Random random)
    {
        var entries = new JsonArray();
        for (var n = random.Next(0, 8); n > 0; n--)
        {
            var resource = new JsonObject { ["resourceType"] = Types[random.Next(Types.Length)], ["id"] = "r" + n };
            if (random.Next(4) > 0)
            {
                var security = new JsonArray();
                for (var l = random.Next(0, 3); l > 0; l--)
                {
                    security.Add(new JsonObject { ["system"] = random.Next(5) == 0 ? "urn:other" : Conf, ["code"] = LabelCodes[random.Next(LabelCodes.Length)] });
                }

                resource["meta"] = new JsonObject { ["security"] = security };
            }

            if (random.Next(5) > 0)
            {
                resource["subject"] = new JsonObject { ["reference"] = Subjects[random.Next(Subjects.Length)] };
            }

            if (random.Next(4) == 0)
            {
                resource["performer"] = new JsonArray(new JsonObject { ["reference"] = Subjects[random.Next(Subjects.Length)] });
            }

            if (resource["resourceType"]!.GetValue<string>() == "Patient" && random.Next(3) > 0)
            {
                resource["identifier"] = new JsonArray(new JsonObject { ["system"] = "urn:official:id", ["value"] = random.Next(2) == 0 ? "10001" : "10002" });
            }

            entries.Add(new JsonObject { ["fullUrl"] = "x", ["resource"] = resource, ["search"] = new JsonObject { ["mode"] = "match" } });
        }

        return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "searchset", ["total"] = random.Next(0, 9), ["entry"] = entries };
    }

    /// <summary>Byte-level damage: truncation, a flipped character, a duplicated slice.</summary>
    private static string MutateText(Random random, string text)
    {
        var position = random.Next(text.Length);
        return random.Next(3) switch
        {
            0 => text[..position],
            1 => text[..position] + (char)random.Next(32, 127) + text[(position + 1)..],
            _ => text[..position] + text[random.Next(position + 1)..],
        };
    }

    /// <summary>Shape damage: a node replaced by a value of another kind.</summary>
    private static void MutateTree(Random random, JsonObject bundle)
    {
        JsonNode[] replacements = [JsonValue.Create(42), JsonValue.Create("Patient/p1"), new JsonArray(), new JsonObject(), JsonValue.Create(true)];
        var candidates = new List<(JsonObject Parent, string Key)>();
        void Walk(JsonNode? node)
        {
            if (node is JsonObject obj)
            {
                foreach (var (key, value) in obj.ToList())
                {
                    candidates.Add((obj, key));
                    Walk(value);
                }
            }
            else if (node is JsonArray array)
            {
                foreach (var item in array)
                {
                    Walk(item);
                }
            }
        }

        Walk(bundle);
        for (var k = random.Next(1, 4); k > 0 && candidates.Count > 0; k--)
        {
            var (parent, key) = candidates[random.Next(candidates.Count)];
            parent[key] = replacements[random.Next(replacements.Length)].DeepClone();
        }
    }
}
