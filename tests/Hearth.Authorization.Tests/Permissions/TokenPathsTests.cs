using System.Text.Json.Nodes;
using Hearth.Authorization.Permissions;
using Hl7.Fhir.Model;

namespace Hearth.Authorization.Tests.Permissions;

/// <summary>
/// <see cref="TokenPaths"/> reads a granular scope's search parameter from the JSON instead of
/// Firely's FHIRPath engine: for every R4 token parameter it compiles, on every resource below, it
/// must yield exactly the tokens Firely yields; and where the JSON is not the shape the model says,
/// it must not answer at all (Firely decides).
/// </summary>
public sealed class TokenPathsTests
{
    private const string Loinc = "http://loinc.org";

    public static TheoryData<string> Resources => new()
    {
        "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\"},{\"code\":\"no-system\"}]},{\"text\":\"no codings\"}],"
            + "\"code\":{\"coding\":[{\"system\":\"" + Loinc + "\",\"code\":\"8867-4\"},{\"system\":\"urn:only-system\"}]},\"identifier\":[{\"system\":\"urn:ids\",\"value\":\"a1\"},{\"value\":\"no-system\"}],"
            + "\"method\":{\"coding\":[{\"system\":\"urn:m\",\"code\":\"m1\"}]},\"dataAbsentReason\":{\"coding\":[{\"code\":\"unknown\"}]},"
            + "\"component\":[{\"code\":{\"coding\":[{\"system\":\"" + Loinc + "\",\"code\":\"8480-6\"}]},\"dataAbsentReason\":{\"coding\":[{\"code\":\"masked\"}]}},{\"code\":{\"coding\":[{\"system\":\"" + Loinc + "\",\"code\":\"8462-4\"}]},\"valueCodeableConcept\":{\"coding\":[{\"code\":\"v\"}]}}],"
            + "\"subject\":{\"reference\":\"Patient/p1\"}}",
        "{\"resourceType\":\"Observation\",\"id\":\"o2\",\"_status\":{\"extension\":[{\"url\":\"urn:x\",\"valueString\":\"no value\"}]},\"code\":{\"text\":\"only text\"}}",
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true,\"gender\":\"female\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"}],"
            + "\"telecom\":[{\"system\":\"phone\",\"value\":\"555\"},{\"system\":\"email\",\"value\":\"a@b.c\"}],\"address\":[{\"use\":\"home\"},{\"use\":\"work\"}],"
            + "\"communication\":[{\"language\":{\"coding\":[{\"system\":\"urn:ietf:bcp:47\",\"code\":\"en\"}]}}],\"deceasedBoolean\":false}",
        "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"active\":false}",
        "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
            + "\"category\":[{\"coding\":[{\"code\":\"problem-list-item\"}]}],\"bodySite\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"368209003\"}]}],"
            + "\"evidence\":[{\"code\":[{\"coding\":[{\"code\":\"e1\"}]},{\"coding\":[{\"code\":\"e2\"}]}]}],\"stage\":[{\"summary\":{\"coding\":[{\"code\":\"s1\"}]}}],\"subject\":{\"reference\":\"Patient/p1\"}}",
        "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":\"finished\",\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},\"type\":[{\"coding\":[{\"code\":\"t\"}]}],\"identifier\":[{\"system\":\"urn:e\",\"value\":\"1\"}]}",
        "{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\",\"status\":\"active\",\"intent\":\"order\",\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"urn:rx\",\"code\":\"123\"}]},\"category\":[{\"coding\":[{\"code\":\"outpatient\"}]}]}",
        "{\"resourceType\":\"DocumentReference\",\"id\":\"d1\",\"status\":\"current\",\"masterIdentifier\":{\"system\":\"urn:doc\",\"value\":\"m\"},\"identifier\":[{\"value\":\"i\"}],\"type\":{\"coding\":[{\"code\":\"note\"}]},\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"language\":\"en\"},\"format\":{\"system\":\"urn:f\",\"code\":\"f1\"}}],\"securityLabel\":[{\"coding\":[{\"code\":\"N\"}]}]}",
    };

    [Theory]
    [MemberData(nameof(Resources))]
    public void EveryCompiledParameter_YieldsWhatFirelyYields(string json)
    {
        var resource = JsonNode.Parse(json)!.AsObject();
        var type = (string)resource["resourceType"]!;
        var typed = ScopeCondition.Typed(resource);
        var compared = 0;
        foreach (var parameter in Parameters(type))
        {
            if (TokenPaths.Compile(type, parameter.Expression!) is not { } paths)
            {
                continue;
            }

            var fromJson = paths.Evaluate(resource);
            Assert.True(fromJson is not null, $"{type}.{parameter.Name}: regular JSON read as irregular");
            var fromFirely = ScopeCondition.FirelyTokens(typed, parameter.Expression!);
            Assert.True(fromFirely.ToHashSet().SetEquals(fromJson!), $"{type}.{parameter.Name} ({parameter.Expression}): JSON {Show(fromJson!)}, Firely {Show(fromFirely)}");
            compared++;
        }

        Assert.True(compared >= 5, $"only {compared} parameters of {type} compiled");
    }

    [Fact]
    public void MostParametersCompile_TheRestAreLeftToFirely()
    {
        var all = ModelInfo.SearchParameters.Where(p => p.Type == SearchParamType.Token && p.Expression is not null && p.Resource is not null).ToList();
        var compiled = all.Count(p => TokenPaths.Compile(p.Resource!, p.Expression!) is not null);
        Assert.InRange(compiled, all.Count * 3 / 4, all.Count - 1);

        Assert.Null(TokenPaths.Compile("Observation", "(Observation.value as CodeableConcept)")); // as: Firely
        Assert.Null(TokenPaths.Compile("Patient", "Patient.telecom.where(system='phone') | Person.telecom.where(system='phone')")); // a function
        Assert.Null(TokenPaths.Compile("Patient", "Patient.deceased.exists() and Patient.deceased != false"));
        Assert.Null(TokenPaths.Compile("Observation", "Resource.meta.tag")); // a base type at the root
        Assert.Null(TokenPaths.Compile("Observation", "Observation.subject")); // a Reference: no tokens FHIR defines here
        Assert.Null(TokenPaths.Compile("Observation", "Observation.value")); // a choice
        Assert.NotNull(TokenPaths.Compile("Observation", "AllergyIntolerance.code | (DeviceRequest.code as CodeableConcept) | Observation.code")); // other types' parts yield nothing here
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Observation\",\"code\":{\"coding\":{\"system\":\"urn:s\",\"code\":\"c\"}}}")] // an object where an array belongs
    [InlineData("{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":7,\"code\":\"c\"}]}}")] // a number where a string belongs
    [InlineData("{\"resourceType\":\"Observation\",\"code\":{\"coding\":[null]}}")]
    [InlineData("{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":null,\"code\":\"c\"}]}}")]
    [InlineData("{\"resourceType\":\"Observation\",\"code\":\"c\"}")]
    [InlineData("{\"resourceType\":\"Observation\",\"code\":[[{\"coding\":[]}]]}")]
    public void IrregularJson_NotAnswered_FirelyDecides(string json)
        => Assert.Null(TokenPaths.Compile("Observation", "Observation.code")!.Evaluate(JsonNode.Parse(json)!.AsObject()));

    [Theory]
    [InlineData("{\"resourceType\":\"Patient\",\"active\":\"true\"}")]
    [InlineData("{\"resourceType\":\"Patient\",\"active\":1}")]
    public void ABooleanThatIsNotOne_NotAnswered(string json)
        => Assert.Null(TokenPaths.Compile("Patient", "Patient.active")!.Evaluate(JsonNode.Parse(json)!.AsObject()));

    private static IEnumerable<SearchParamDefinition> Parameters(string type)
        => ModelInfo.SearchParameters.Where(p => p.Type == SearchParamType.Token && p.Expression is not null && p.Resource == type);

    private static string Show(IEnumerable<(string? System, string? Code)> tokens) => "[" + string.Join(", ", tokens.Select(t => $"{t.System}|{t.Code}")) + "]";
}
