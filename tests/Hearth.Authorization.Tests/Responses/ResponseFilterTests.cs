using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Tests.Responses;

public class ResponseFilterTests
{
    private const string Conf = TestSettings.Conf;
    private const string B = TestSettings.FhirBase;

    private static readonly Dictionary<string, PatientIdentifier?> Patients = new()
    {
        ["Patient/p1"] = new("urn:official:id", "10001"),
        ["Patient/p2"] = new("urn:official:id", "10002"),
        ["Patient/gone"] = null,
    };

    private static string Grant(string value, string labels = "\"*\"", string type = "\"*\"")
        => "{\"resource_set_id\":{\"patientId\":" + (value == "*" ? "\"*\"" : "{\"system\":\"urn:official:id\",\"value\":\"" + value + "\"}")
           + ",\"resourceType\":" + type + "},\"scopes\":[{\"action\":\"read\",\"securityLabels\":" + labels + "}]}";

    private static string Obs(string id, string? subject, string? label = null, string extra = "")
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\""
           + (label is null ? "" : ",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]}")
           + (subject is null ? "" : ",\"subject\":{\"reference\":\"" + subject + "\"}") + extra + ",\"status\":\"final\",\"code\":{\"text\":\"x\"}}";

    private static string SearchSet(int? total, params string[] resources)
        => "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"" + (total is null ? "" : ",\"total\":" + total)
           + ",\"link\":[{\"relation\":\"self\",\"url\":\"" + B + "/Observation\"}],\"entry\":["
           + string.Join(',', resources.Select(r => "{\"fullUrl\":\"" + B + "/Observation/x\",\"resource\":" + r + ",\"search\":{\"mode\":\"match\"}}")) + "]}";

    private static (FilterResult Result, ParsedResponse Parsed) Run(string body, string permissions, bool judgeEntries = true, RuleSettings? settings = null)
    {
        var filter = new ResponseFilter(settings ?? TestSettings.Rules());
        var parsed = filter.Parse(Encoding.UTF8.GetBytes(body), judgeEntries);
        Assert.NotNull(parsed);
        var result = filter.Apply(parsed, TestResolution.Of(r => Patients.TryGetValue(r, out var p) ? p : null), PermissionSet.Parse("[" + permissions + "]"), FhirAction.Read);
        return (result, parsed);
    }

    private static List<string> Ids(FilterResult result, string original)
    {
        var root = JsonNode.Parse(result.Body ?? original)!;
        return root["entry"]!.AsArray().Select(e => e!["resource"]!["id"]!.GetValue<string>()).ToList();
    }

    [Theory]
    [InlineData("Patient/p1", "10001", FilterOutcome.Permitted)]
    [InlineData("Patient/p2", "10001", FilterOutcome.Denied)]
    [InlineData(B + "/Patient/p1", "10001", FilterOutcome.Permitted)] // absolute on the FHIR server
    [InlineData("Patient/p1/_history/3", "10001", FilterOutcome.Permitted)]
    [InlineData("http://other.example.org/fhir/Patient/p1", "*", FilterOutcome.Denied)] // another server: never
    [InlineData("urn:uuid:0b7a7e3e-7f53-4f3c-9b8e-0a0a0a0a0a0a", "*", FilterOutcome.Denied)]
    [InlineData("Patient/gone", "*", FilterOutcome.Denied)] // cannot be resolved
    [InlineData("Group/g1", "10001", FilterOutcome.Denied)] // outside the compartment needs "*"
    [InlineData("Group/g1", "*", FilterOutcome.Permitted)]
    [InlineData("Nonsense", "*", FilterOutcome.Denied)]
    public void Apply_SingleObservation_ByReference(string subject, string grantedPatient, FilterOutcome expected)
        => Assert.Equal(expected, Run(Obs("o1", subject, "N"), Grant(grantedPatient), judgeEntries: false).Result.Outcome);

    [Fact]
    public void Apply_PerformerIsAlsoCompartment_BothPatientsRequired()
    {
        var obs = Obs("o1", "Patient/p1", "N", ",\"performer\":[{\"reference\":\"Patient/p2\"}]");
        Assert.Equal(FilterOutcome.Denied, Run(obs, Grant("10001"), false).Result.Outcome);
        Assert.Equal(FilterOutcome.Permitted, Run(obs, Grant("10001") + "," + Grant("10002"), false).Result.Outcome);
    }

    [Theory]
    [InlineData("\"subject\":\"Patient/p1\"")]
    [InlineData("\"subject\":42")]
    [InlineData("\"subject\":[\"Patient/p1\"]")]
    public void Apply_MalformedCompartmentElement_DeniedEvenForWildcard(string subject)
    {
        var obs = "{\"resourceType\":\"Observation\",\"id\":\"o1\"," + subject + "}";
        Assert.Equal(FilterOutcome.Denied, Run(obs, Grant("*"), false).Result.Outcome);
    }

    [Fact]
    public void Parse_LocalUrnReferences_PatientReportedByUrn_OthersNotPatients_UnknownDenied()
    {
        var filter = new ResponseFilter(TestSettings.Rules());
        var local = new Dictionary<string, LocalTarget>
        {
            ["urn:uuid:p"] = LocalTarget.Created(JsonNode.Parse("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10009\"}]}")!.AsObject()),
            ["urn:uuid:g"] = LocalTarget.Created(JsonNode.Parse("{\"resourceType\":\"Group\"}")!.AsObject()),
        };
        var toPatient = filter.Parse(Encoding.UTF8.GetBytes(Obs("o1", "urn:uuid:p")), false, local)!;
        Assert.Equal(PatientLinkKind.Patients, toPatient.RootFacts.PatientLink);
        Assert.Empty(toPatient.RootFacts.PatientReferences);
        Assert.Equal([new PatientIdentifier("urn:official:id", "10009")], toPatient.RootFacts.InlinePatients.Single()); // the created Patient's identifiers

        var toGroup = filter.Parse(Encoding.UTF8.GetBytes(Obs("o1", "urn:uuid:g")), false, local)!;
        Assert.Equal(PatientLinkKind.OutsideCompartment, toGroup.RootFacts.PatientLink);

        var unknown = filter.Parse(Encoding.UTF8.GetBytes(Obs("o1", "urn:uuid:other")), false, local)!;
        Assert.Equal(PatientLinkKind.Unresolvable, unknown.RootFacts.PatientLink);

        var withoutMap = filter.Parse(Encoding.UTF8.GetBytes(Obs("o1", "urn:uuid:p")), false)!;
        Assert.Equal(PatientLinkKind.Unresolvable, withoutMap.RootFacts.PatientLink);
    }

    [Fact]
    public void Apply_FocusIsNotCompartment_Ignored()
    {
        // Observation.focus may point at a Patient but is not in the Patient compartment definition.
        var obs = Obs("o1", "Patient/p1", "N", ",\"focus\":[{\"reference\":\"Patient/p2\"}]");
        Assert.Equal(FilterOutcome.Permitted, Run(obs, Grant("10001"), false).Result.Outcome);
    }

    [Theory]
    [InlineData("{\"reference\":\"#c1\"}", "Patient", FilterOutcome.Denied)]
    [InlineData("{\"reference\":\"#c1\"}", "Practitioner", FilterOutcome.Permitted)]
    [InlineData("{\"identifier\":{\"system\":\"urn:x\",\"value\":\"1\"}}", null, FilterOutcome.Denied)]
    [InlineData("{\"type\":\"Practitioner\",\"identifier\":{\"system\":\"urn:x\",\"value\":\"1\"}}", null, FilterOutcome.Permitted)]
    [InlineData("{\"display\":\"Dr. Who\"}", null, FilterOutcome.Permitted)]
    public void Apply_PerformerForms_FailClosedOnPossiblePatients(string performer, string? containedType, FilterOutcome expected)
    {
        var contained = containedType is null ? "" : ",\"contained\":[{\"resourceType\":\"" + containedType + "\",\"id\":\"c1\"}]";
        var obs = Obs("o1", "Patient/p1", "N", ",\"performer\":[" + performer + "]" + contained);
        Assert.Equal(expected, Run(obs, Grant("10001"), false).Result.Outcome);
    }

    [Theory]
    [InlineData(null, "[{\"system\":\"" + Conf + "\",\"code\":\"M\"}]", FilterOutcome.Permitted)] // unlabelled → default M
    [InlineData(null, "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]", FilterOutcome.Denied)]
    [InlineData("R", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]", FilterOutcome.Denied)]
    [InlineData("N", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]", FilterOutcome.Permitted)]
    public void Apply_Labels_DefaultConfidentiality(string? label, string grantedLabels, FilterOutcome expected)
        => Assert.Equal(expected, Run(Obs("o1", "Patient/p1", label), Grant("10001", grantedLabels), false).Result.Outcome);

    [Fact]
    public void Apply_LabelsOutsideDesignatedSystems_Ignored()
    {
        // An ActCode label is not in DESIGNATED_SECURITY_LABEL_SYSTEMS by default, so it neither needs nor breaks a grant.
        var obs = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"DELAU\"},{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"subject\":{\"reference\":\"Patient/p1\"}}";
        Assert.Equal(FilterOutcome.Permitted, Run(obs, Grant("10001", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]"), false).Result.Outcome);

        var withActCode = TestSettings.Rules(("DESIGNATED_SECURITY_LABEL_SYSTEMS", Conf + ",http://terminology.hl7.org/CodeSystem/v3-ActCode"));
        Assert.Equal(FilterOutcome.Denied, Run(obs, Grant("10001", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]"), false, withActCode).Result.Outcome);
    }

    [Theory]
    [InlineData("N", FilterOutcome.Denied)]
    [InlineData("M", FilterOutcome.Permitted)]
    public void Apply_OnlyForeignLabel_StillJudgedAsTheDefaultConfidentiality(string granted, FilterOutcome expected)
    {
        // A label of another system says nothing about confidentiality: the default (M) applies, as to an unlabelled resource.
        var obs = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"HIV\"}]},\"subject\":{\"reference\":\"Patient/p1\"}}";
        Assert.Equal(expected, Run(obs, Grant("10001", "[{\"system\":\"" + Conf + "\",\"code\":\"" + granted + "\"}]"), false).Result.Outcome);
    }

    [Theory]
    [InlineData("urn:official:id", "10001")]
    [InlineData("urn:mrn", "MRN-1")]
    public void Apply_PatientResource_DesignatedSystemPriority(string designated, string grantedValue)
    {
        var settings = TestSettings.Rules(("DESIGNATED_PATIENT_ID_SYSTEMS", designated));
        var patient = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MRN-1\"},{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}";
        string Grant(string system, string value) => "{\"resource_set_id\":{\"patientId\":{\"system\":\"" + system + "\",\"value\":\"" + value + "\"},\"resourceType\":\"Patient\"},\"scopes\":[{\"action\":\"read\",\"securityLabels\":\"*\"}]}";
        var grantedSystem = grantedValue == "10001" ? "urn:official:id" : "urn:mrn";
        Assert.Equal(FilterOutcome.Permitted, Run(patient, Grant(grantedSystem, grantedValue), false, settings).Result.Outcome);
        var otherSystem = grantedValue == "10001" ? "urn:mrn" : "urn:official:id";
        var otherValue = grantedValue == "10001" ? "MRN-1" : "10001";
        Assert.Equal(FilterOutcome.Denied, Run(patient, Grant(otherSystem, otherValue), false, settings).Result.Outcome);
    }

    [Fact]
    public void Apply_PatientResource_NoDesignatedSystem_FirstIdentifier()
    {
        var settings = TestSettings.Rules(("DESIGNATED_PATIENT_ID_SYSTEMS", "urn:nothing"));
        var patient = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MRN-1\"},{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}";
        var grant = "{\"resource_set_id\":{\"patientId\":{\"system\":\"urn:mrn\",\"value\":\"MRN-1\"},\"resourceType\":\"Patient\"},\"scopes\":[\"read\"]," + "\"x\":0}";
        grant = grant.Replace("\"scopes\":[\"read\"]", "\"scopes\":[{\"action\":\"read\",\"securityLabels\":\"*\"}]");
        Assert.Equal(FilterOutcome.Permitted, Run(patient, grant, false, settings).Result.Outcome);
    }

    [Fact]
    public void Apply_PatientWithoutIdentifiers_Denied()
        => Assert.Equal(FilterOutcome.Denied, Run("{\"resourceType\":\"Patient\",\"id\":\"p1\"}", Grant("*"), false).Result.Outcome);

    [Fact]
    public void Apply_Bundle_SomePermitted_RedactsAndDropsTotal()
    {
        var body = SearchSet(3, Obs("a", "Patient/p1", "N"), Obs("b", "Patient/p2", "N"), Obs("c", "Patient/p1", "R"));
        var (result, _) = Run(body, Grant("10001", "[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]"));
        Assert.Equal(FilterOutcome.Redacted, result.Outcome);
        Assert.Equal((1, 2), (result.Kept, result.Removed));
        Assert.Equal(["a"], Ids(result, body));
        Assert.Null(JsonNode.Parse(result.Body!)!["total"]);
    }

    [Fact]
    public void Apply_Bundle_AllPermitted_Unchanged()
    {
        var body = SearchSet(2, Obs("a", "Patient/p1", "N"), Obs("b", "Patient/p2", "N"));
        var (result, _) = Run(body, Grant("10001") + "," + Grant("10002"));
        Assert.Equal(FilterOutcome.Permitted, result.Outcome);
        Assert.Null(result.Body); // original bytes stand, total included (it equals what is visible)
    }

    [Fact]
    public void Apply_Bundle_TotalCountingHiddenPages_Dropped()
    {
        var body = SearchSet(40, Obs("a", "Patient/p1", "N"));
        var (result, _) = Run(body, Grant("10001"));
        Assert.Equal(FilterOutcome.Permitted, result.Outcome);
        Assert.Null(JsonNode.Parse(result.Body!)!["total"]);
    }

    [Fact]
    public void Apply_SummaryCount_TotalDropped()
    {
        var body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":17}";
        var (result, _) = Run(body, Grant("10001"));
        Assert.Equal(FilterOutcome.Permitted, result.Outcome);
        Assert.Null(JsonNode.Parse(result.Body!)!["total"]);
    }

    [Fact]
    public void Apply_Bundle_NonePermitted_Emptied_AsIfNothingHadMatched()
    {
        var (result, _) = Run(SearchSet(2, Obs("a", "Patient/p2", "N"), Obs("b", "Patient/p2", "N")), Grant("10001"));
        Assert.Equal(FilterOutcome.Emptied, result.Outcome);
        var emptied = JsonNode.Parse(result.Body!)!.AsObject();
        Assert.Null(emptied["entry"]);
        Assert.Null(emptied["total"]);
        Assert.Equal("self", emptied["link"]![0]!["relation"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(false, new[] { "self", "first", "previous", "next" })] // a next page: last would count what is hidden there
    [InlineData(true, new[] { "self", "first", "previous", "next" })]
    public void Apply_PagingLinksThatCount_Dropped(bool removeOne, string[] kept)
    {
        var links = "[" + string.Join(",", new[] { "self", "first", "previous", "next", "last", "custom" }.Select(r => "{\"relation\":\"" + r + "\",\"url\":\"" + B + "/Observation?_offset=9\"}")) + "]";
        var body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":" + links + ",\"entry\":[{\"resource\":" + Obs("a", "Patient/p1", "N") + "}"
                   + (removeOne ? ",{\"resource\":" + Obs("b", "Patient/p2", "N") + "}" : "") + "]}";
        var (result, _) = Run(body, Grant("10001"));
        Assert.Equal(kept, JsonNode.Parse(result.Body!)!["link"]!.AsArray().Select(l => l!["relation"]!.GetValue<string>()));
    }

    [Fact]
    public void Apply_SinglePageNothingRemoved_LinksAndTotalKept()
    {
        var body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1,\"link\":[{\"relation\":\"self\",\"url\":\"x\"},{\"relation\":\"last\",\"url\":\"x\"}],\"entry\":[{\"resource\":" + Obs("a", "Patient/p1", "N") + "}]}";
        var (result, _) = Run(body, Grant("10001"));
        Assert.Null(result.Body); // the whole result is visible: nothing to hide
    }

    [Fact]
    public void Apply_EmptyBundle_Permitted_WithoutTotal_LikeAnEmptiedOne()
    {
        var (result, _) = Run(SearchSet(0), Grant("10001"));
        Assert.Equal(FilterOutcome.Permitted, result.Outcome);
        var (emptied, _) = Run(SearchSet(1, Obs("a", "Patient/p2", "N")), Grant("10001"));
        Assert.Equal(FilterOutcome.Emptied, emptied.Outcome);
        Assert.Equal(emptied.Body, result.Body);
    }

    [Fact]
    public void Apply_EntriesWithoutClassifiableResource_Removed()
    {
        var body = "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":[{\"request\":{\"method\":\"DELETE\",\"url\":\"Observation/z\"}},{\"resource\":{\"resourceType\":\"Nope\"}},{\"resource\":"
                   + Obs("a", "Patient/p1", "N") + "}]}";
        var (result, _) = Run(body, Grant("10001"));
        Assert.Equal(FilterOutcome.Redacted, result.Outcome);
        Assert.Equal(["a"], Ids(result, body));
    }

    [Fact]
    public void Apply_DeniedPermissionWins_InBundle()
    {
        var deny = "{\"deny\":true,\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"*\"},\"scopes\":[{\"action\":\"read\",\"securityLabels\":[{\"system\":\"" + Conf + "\",\"code\":\"R\"}]}]}";
        var body = SearchSet(null, Obs("a", "Patient/p1", "N"), Obs("b", "Patient/p1", "R"));
        var (result, _) = Run(body, Grant("10001") + "," + deny);
        Assert.Equal(["a"], Ids(result, body));
    }

    [Fact]
    public void Apply_UnprotectedType_AlwaysPermitted()
    {
        var settings = TestSettings.Rules(("UNPROTECTED_RESOURCE_TYPES", "Organization"));
        var body = SearchSet(null, "{\"resourceType\":\"Organization\",\"id\":\"o\"}", Obs("a", "Patient/p2", "N"));
        var (result, _) = Run(body, "", settings: settings);
        Assert.Equal(FilterOutcome.Redacted, result.Outcome);
        Assert.Equal(["o"], Ids(result, body));
    }

    [Fact]
    public void Apply_BundleReadAsResource_JudgedWholeWithEveryEntry()
    {
        // A Bundle read as a resource is one resource: its entries' patients are its patients.
        var ofPatient1 = SearchSet(null, Obs("a", "Patient/p1", "N"));
        Assert.Equal(FilterOutcome.Permitted, Run(ofPatient1, Grant("10001"), judgeEntries: false).Result.Outcome);
        Assert.Equal(FilterOutcome.Denied, Run(ofPatient1, Grant("10002"), judgeEntries: false).Result.Outcome);

        var ofBoth = SearchSet(null, Obs("a", "Patient/p1", "N"), Obs("b", "Patient/p2", "N"));
        Assert.Equal(FilterOutcome.Denied, Run(ofBoth, Grant("10001"), judgeEntries: false).Result.Outcome);
        Assert.Equal(FilterOutcome.Permitted, Run(ofBoth, Grant("10001") + "," + Grant("10002"), judgeEntries: false).Result.Outcome);
        Assert.Equal(FilterOutcome.Permitted, Run(ofBoth, Grant("*"), judgeEntries: false).Result.Outcome);

        // Nothing of a patient in it: outside the compartment, it needs "*".
        var ofNoPatient = SearchSet(null, "{\"resourceType\":\"Organization\",\"id\":\"o\"}");
        Assert.Equal(FilterOutcome.Denied, Run(ofNoPatient, Grant("10001"), judgeEntries: false).Result.Outcome);
        Assert.Equal(FilterOutcome.Permitted, Run(ofNoPatient, Grant("*"), judgeEntries: false).Result.Outcome);
    }

    [Fact]
    public void Parse_PatientReferences_Collected()
    {
        var body = SearchSet(null, Obs("a", "Patient/p1"), Obs("b", "Patient/p2"), Obs("c", B + "/Patient/p1"), Obs("d", "Group/g"));
        var (_, parsed) = Run(body, "");
        Assert.True(parsed.PatientReferences.SetEquals(["Patient/p1", "Patient/p2"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("<Patient xmlns=\"http://hl7.org/fhir\"/>")]
    [InlineData("[]")]
    [InlineData("{\"id\":\"1\"}")]
    [InlineData("{\"resourceType\":\"NotAType\"}")]
    [InlineData("{\"resourceType\":\"Observation\",\"resourceType\":\"Patient\"}")]
    [InlineData("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":{}}")]
    [InlineData("{\"resourceType\":\"Observation\"")]
    public void Parse_NotFhirJson_Null(string body)
        => Assert.Null(new ResponseFilter(TestSettings.Rules()).Parse(Encoding.UTF8.GetBytes(body), judgeEntries: true));

    [Fact]
    public void PauldronFixture_SpecimenBundle_PermittedForPatient10001()
    {
        var settings = TestSettings.Rules(("FHIR_SERVER_BASE", "https://mock-fhir-server/base"));
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Pauldron", "specimen-bundle.json"));
        var filter = new ResponseFilter(settings);
        var parsed = filter.Parse(body, judgeEntries: true)!;
        Assert.True(parsed.PatientReferences.SetEquals(["Patient/1"]));

        // The fixture's Patient/1 (patient.json) carries urn:official:id|10001.
        var patientFacts = filter.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Pauldron", "patient.json")), false)!.RootFacts;
        var resolved = PatientIdentifier.Choose(patientFacts.InlinePatients.Single(), settings.DesignatedPatientIdSystems);
        Assert.Equal(new PatientIdentifier("urn:official:id", "10001"), resolved);

        var grant = "[{\"resource_set_id\":{\"patientId\":{\"system\":\"urn:official:id\",\"value\":\"10001\"},\"resourceType\":\"Specimen\"},\"scopes\":[{\"action\":\"read\",\"securityLabels\":[{\"system\":\"" + Conf + "\",\"code\":\"M\"}]}]}]";
        var result = filter.Apply(parsed, TestResolution.Of(_ => resolved), PermissionSet.Parse(grant), FhirAction.Read);
        Assert.Equal(FilterOutcome.Permitted, result.Outcome);
        Assert.Equal(2, result.Kept);

        var other = filter.Apply(parsed, TestResolution.Of(_ => new PatientIdentifier("urn:official:id", "10002")), PermissionSet.Parse(grant), FhirAction.Read);
        Assert.Equal(FilterOutcome.Emptied, other.Outcome); // a search Bundle with every entry removed
    }

    [Fact]
    public void PauldronFixture_ConsentWithActCodeLabel_RedactedWhenActCodeDesignated()
    {
        var settings = TestSettings.Rules(("FHIR_SERVER_BASE", "https://mock-fhir-server/base"),
            ("DESIGNATED_SECURITY_LABEL_SYSTEMS", Conf + ",http://terminology.hl7.org/CodeSystem/v3-ActCode"));
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Pauldron", "consent-bundl-with-labeled-resource.json"));
        var filter = new ResponseFilter(settings);
        var parsed = filter.Parse(body, judgeEntries: true)!;
        var grant = "[{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"Consent\"},\"scopes\":[{\"action\":\"read\",\"securityLabels\":[{\"system\":\"" + Conf + "\",\"code\":\"M\"}]}]}]";
        var result = filter.Apply(parsed, TestResolution.Of(_ => new PatientIdentifier("urn:official:id", "1")), PermissionSet.Parse(grant), FhirAction.Read);
        Assert.Equal(FilterOutcome.Redacted, result.Outcome);
        Assert.Equal(["510797"], Ids(result, Encoding.UTF8.GetString(body)));
    }

    /// <summary>
    /// A redacted Bundle is written from the FHIR server's bytes: the same JSON as editing the tree,
    /// and each kept entry byte for byte as the server wrote it (escapes and number forms included).
    /// </summary>
    [Fact]
    public void RedactedBundle_WrittenFromTheServersBytes_KeptEntriesUntouched()
    {
        var kept = Obs("k\\u00e9", "Patient/p1", extra: ",\"valueQuantity\":{\"value\":1.50}");
        var body = "{ \"resourceType\" : \"Bundle\", \"type\":\"searchset\",\"total\":3,\"link\":[{\"relation\":\"self\",\"url\":\"" + B + "/Observation\"},"
                   + "{\"relation\":\"last\",\"url\":\"" + B + "/Observation?page=9\"}],\"entry\":[ {\"resource\":" + kept + "}, {\"resource\":" + Obs("r", "Patient/p2")
                   + "},{\"resource\":" + Obs("r2", "Patient/gone") + "}], \"meta\":{\"lastUpdated\":\"2026-01-01T00:00:00Z\"}}";
        var (result, parsed) = Run(body, Grant("10001"));

        Assert.Equal(FilterOutcome.Redacted, result.Outcome);
        var written = result.Body!;
        Assert.Contains("{\"resource\":" + kept + "}", written, StringComparison.Ordinal); // byte for byte
        var edited = result.Edit!.ApplyTo(JsonNode.Parse(body)!.AsObject());
        Assert.True(JsonNode.DeepEquals(edited, JsonNode.Parse(written)), written);
        Assert.Null(JsonNode.Parse(written)!["total"]);
        Assert.Equal(["self"], JsonNode.Parse(written)!["link"]!.AsArray().Select(l => l!["relation"]!.GetValue<string>()));
        parsed.Dispose();
    }
}
