using System.Text;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Tests.Responses;

/// <summary>
/// The judgement rules closed by the critical issue, as tables: resources inside resources,
/// the highest confidentiality, denies of a person by any identifier, default confidentiality,
/// malformed compartment references, a Binary's security context, transaction references.
/// </summary>
public class JudgementRulesTests
{
    private const string Conf = TestSettings.Conf;
    private const string ActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

    private static readonly PatientIdentifier Mrn2 = new("urn:mrn:hospital", "MRN-002");
    private static readonly PatientIdentifier Official2 = new("urn:official:id", "10002");

    private static readonly Dictionary<string, ResolvedPatient?> Patients = new()
    {
        ["Patient/p1"] = TestResolution.Patient(new("urn:official:id", "10001")),
        ["Patient/p2"] = new ResolvedPatient(Official2, [Mrn2, Official2]),
    };

    private static readonly Dictionary<string, ResourceFacts?> Contexts = new()
    {
        ["DocumentReference/d1"] = new ResourceFacts("DocumentReference", [new SecurityLabel(Conf, "N")], PatientLinkKind.Patients, ["Patient/p1"], []),
        ["DocumentReference/d2"] = new ResourceFacts("DocumentReference", [new SecurityLabel(Conf, "R")], PatientLinkKind.Patients, ["Patient/p2"], []),
        ["Organization/o1"] = new ResourceFacts("Organization", [new SecurityLabel(Conf, "N")], PatientLinkKind.OutsideCompartment, [], []),
        ["DocumentReference/gone"] = null,
    };

    private static string Grant(string patient, string labels = "\"*\"", string type = "*", string system = "urn:official:id", bool deny = false)
        => Hearth.Testing.Permissions.For(patient, type, "read", labels, deny, system);

    private static string Labels(params string[] codes) => Hearth.Testing.Permissions.Labels(codes);

    private static string Meta(string? label) => label is null ? "" : ",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]}";

    private static string Obs(string? subject, string? label = "N", string extra = "", string id = "o1")
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\"" + Meta(label) + (subject is null ? "" : ",\"subject\":{\"reference\":\"" + subject + "\"}") + extra + ",\"status\":\"final\",\"code\":{\"text\":\"x\"}}";

    private static Decision Judge(string resource, params string[] permissions) => Judge(TestSettings.Create(), resource, null, permissions);

    private static Decision Judge(Hearth.Authorization.Configuration.HearthSettings settings, string resource, IReadOnlyDictionary<string, LocalTarget>? local, params string[] permissions)
    {
        var parsed = new ResponseFilter(settings.Rules).Parse(Encoding.UTF8.GetBytes(resource), judgeEntries: false, local);
        Assert.NotNull(parsed);
        return new Adjudicator(settings.Rules).Judge(parsed.RootFacts, ResolvedReferences.From(Patients, Contexts), PermissionSet.Parse("[" + string.Join(",", permissions) + "]"), FhirAction.Read).Decision;
    }

    public static TheoryData<string, string, string[], Decision> Embedded => new()
    {
        { "contained resource of another patient", Obs("Patient/p1", extra: ",\"contained\":[" + Obs("Patient/p2", id: "c1") + "]"), [Grant("10001")], Decision.NotGranted },
        { "... with a grant of both", Obs("Patient/p1", extra: ",\"contained\":[" + Obs("Patient/p2", id: "c1") + "]"), [Grant("10001"), Grant("10002")], Decision.Permit },
        { "contained resource outside the compartment is part of it", Obs("Patient/p1", extra: ",\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"m\"}]"), [Grant("10001")], Decision.Permit },
        { "contained Patient referenced by #id: its identifiers", Obs("#pt", extra: ",\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pt\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10002\"}]}]"), [Grant("10002")], Decision.Permit },
        { "... not another patient's grant", Obs("#pt", extra: ",\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pt\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10002\"}]}]"), [Grant("10001")], Decision.NotGranted },
        { "contained Patient without identifiers: unresolvable", Obs("#pt", extra: ",\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"pt\"}]"), [Grant("*")], Decision.NotGranted },
        { "#id naming nothing contained", Obs("#nope"), [Grant("*")], Decision.NotGranted },
        { "contained item that is not a resource", Obs("Patient/p1", extra: ",\"contained\":[{\"id\":\"x\"}]"), [Grant("*")], Decision.NotGranted },
        { "collection Bundle: every entry's patient", "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":" + Obs("Patient/p1") + "},{\"resource\":" + Obs("Patient/p2", id: "o2") + "}]}", [Grant("10001")], Decision.NotGranted },
        { "Bundle in a Bundle", "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":[{\"resource\":" + Obs("Patient/p2") + "}]}}]}", [Grant("10001")], Decision.NotGranted },
        { "a Bundle entry's response outcome", "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[{\"response\":{\"status\":\"200\",\"outcome\":" + Obs("Patient/p2") + "}}]}", [Grant("10001")], Decision.NotGranted },
        { "Parameters resource", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"r\",\"resource\":" + Obs("Patient/p2") + "}]}", [Grant("10001")], Decision.NotGranted },
        { "Parameters part resource", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"r\",\"part\":[{\"name\":\"s\",\"resource\":" + Obs("Patient/p2") + "}]}]}", [Grant("10001")], Decision.NotGranted },
        { "Parameters of one patient", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"r\",\"resource\":" + Obs("Patient/p1") + "}]}", [Grant("10001")], Decision.Permit },
    };

    [Theory]
    [MemberData(nameof(Embedded))]
    public void Embedded_ResourcesArePartOfTheirContainer(string name, string resource, string[] permissions, Decision expected)
        => Assert.True(expected == Judge(resource, permissions), name);

    public static TheoryData<string, string, string[], Decision> Confidentiality => new()
    {
        { "N container, R contained: an N grant falls short", Obs("Patient/p1", "N", ",\"contained\":[" + Obs("Patient/p1", "R", id: "c") + "]"), [Grant("10001", Labels("N"))], Decision.NotGranted },
        { "... the high-water mark R is granted", Obs("Patient/p1", "N", ",\"contained\":[" + Obs("Patient/p1", "R", id: "c") + "]"), [Grant("10001", Labels("R"))], Decision.Permit },
        { "... a deny of N still excludes the N part", Obs("Patient/p1", "N", ",\"contained\":[" + Obs("Patient/p1", "R", id: "c") + "]"), [Grant("10001"), Grant("*", Labels("N"), deny: true)], Decision.ExplicitlyDenied },
        { "unlabelled contained resource has its container's confidentiality", Obs("Patient/p1", "N", ",\"contained\":[" + Obs("Patient/p1", null, id: "c") + "]"), [Grant("10001", Labels("N"))], Decision.Permit },
        { "a deny of an embedded resource's type excludes the whole", Obs("Patient/p1", "N", ",\"contained\":[{\"resourceType\":\"Condition\",\"id\":\"c\",\"subject\":{\"reference\":\"Patient/p1\"}}]"), [Grant("10001"), Grant("*", type: "Condition", deny: true)], Decision.ExplicitlyDenied },
        { "only a label of another system: the default M", Obs("Patient/p1", null, ",\"meta\":{\"security\":[{\"system\":\"" + ActCode + "\",\"code\":\"HIV\"}]}"), [Grant("10001", Labels("N"))], Decision.NotGranted },
        { "... M granted", Obs("Patient/p1", null, ",\"meta\":{\"security\":[{\"system\":\"" + ActCode + "\",\"code\":\"HIV\"}]}"), [Grant("10001", Labels("M"))], Decision.Permit },
        { "malformed meta.security", Obs("Patient/p1", null, ",\"meta\":{\"security\":{\"system\":\"" + Conf + "\",\"code\":\"R\"}}"), [Grant("*")], Decision.NotGranted },
    };

    [Theory]
    [MemberData(nameof(Confidentiality))]
    public void Labels_HighWaterMarkForGrants_EveryPartForDenies(string name, string resource, string[] permissions, Decision expected)
        => Assert.True(expected == Judge(resource, permissions), name);

    [Theory]
    [InlineData("urn:mrn:hospital", "MRN-002", Decision.ExplicitlyDenied)] // not the designated system: still the person
    [InlineData("urn:official:id", "10002", Decision.ExplicitlyDenied)]
    [InlineData("urn:mrn:hospital", "MRN-003", Decision.Permit)]
    public void Deny_NamesAnyIdentifierOfThePatient(string system, string value, Decision expected)
        => Assert.Equal(expected, Judge(Obs("Patient/p2"), Grant("*"), Grant(value, system: system, deny: true)));

    [Fact]
    public void Grant_MatchesTheDesignatedIdentifierOnly()
        => Assert.Equal(Decision.NotGranted, Judge(Obs("Patient/p2"), Grant("MRN-002", system: "urn:mrn:hospital")));

    [Theory]
    [InlineData("{\"resourceType\":\"Patient\",\"id\":\"p2\"}")] // a server may read it as a reference
    [InlineData("{\"reference\":42}")]
    [InlineData("{\"reference\":null}")]
    [InlineData("{\"reference\":{\"x\":1}}")]
    [InlineData("{\"reference\":\"Patient/p1\",\"id\":\"r\",\"resourceType\":\"Patient\"}")]
    [InlineData("{\"reference\":\"Patient/p1\",\"type\":7}")]
    [InlineData("{\"reference\":\"Patient/p1\",\"identifier\":\"10001\"}")]
    [InlineData("[{\"reference\":\"Patient/p1\"}]")] // an array in an array
    public void MalformedCompartmentReference_Unresolvable(string subject)
    {
        var obs = "{\"resourceType\":\"Observation\",\"id\":\"o1\"" + Meta("N") + ",\"subject\":" + (subject.StartsWith('[') ? "[" + subject + "]" : subject) + "}";
        Assert.Equal(Decision.NotGranted, Judge(obs, Grant("*")));
    }

    [Theory]
    [InlineData("{\"display\":\"Someone\"}", Decision.NotGranted)] // names nobody: outside the compartment, a patient grant does not cover it
    [InlineData("{\"reference\":\"Patient/p1\",\"_reference\":{\"extension\":[]},\"display\":\"x\"}", Decision.Permit)]
    public void PlainReferences_KeepTheirRules(string subject, Decision expected)
    {
        var obs = "{\"resourceType\":\"Observation\",\"id\":\"o1\"" + Meta("N") + ",\"subject\":" + subject + "}";
        Assert.Equal(expected, Judge(obs, Grant("10001")));
    }

    [Theory]
    [InlineData("Patient/p2", "10002", Decision.Permit)]
    [InlineData("Patient/p2", "10001", Decision.NotGranted)]
    [InlineData("DocumentReference/d1", "10001", Decision.Permit)] // judged by its security context's patient
    [InlineData("DocumentReference/d2", "10001", Decision.NotGranted)]
    [InlineData("DocumentReference/gone", "*", Decision.NotGranted)] // a context that cannot be read denies
    [InlineData("Organization/o1", "10001", Decision.NotGranted)] // outside the compartment: any patient
    [InlineData("Organization/o1", "*", Decision.Permit)]
    [InlineData("http://elsewhere.example/fhir/Patient/p1", "*", Decision.NotGranted)]
    [InlineData(null, "10001", Decision.NotGranted)] // no context: any patient, as before
    [InlineData(null, "*", Decision.Permit)]
    public void Binary_JudgedByItsSecurityContext(string? context, string granted, Decision expected)
    {
        var binary = "{\"resourceType\":\"Binary\",\"id\":\"b\",\"contentType\":\"text/plain\",\"data\":\"eA==\""
                     + (context is null ? "" : ",\"securityContext\":{\"reference\":\"" + context + "\"}") + "}";
        Assert.Equal(expected, Judge(binary, Grant(granted)));
    }

    [Fact]
    public void Binary_TheContextsLabelsCount()
        => Assert.Equal(Decision.NotGranted, Judge("{\"resourceType\":\"Binary\",\"id\":\"b\",\"securityContext\":{\"reference\":\"DocumentReference/d2\"}}", Grant("10002", Labels("N", "M"))));

    [Theory]
    [InlineData("urn:uuid:u-existing", "10002", Decision.Permit)] // the entry that writes Patient/p2
    [InlineData("urn:uuid:u-existing", "10001", Decision.NotGranted)]
    [InlineData("urn:uuid:u-created", "10009", Decision.Permit)] // the Patient the transaction creates
    [InlineData("urn:uuid:u-ambiguous", "*", Decision.NotGranted)]
    [InlineData("urn:uuid:unknown", "*", Decision.NotGranted)]
    public void TransactionReferences_ResolvedAsTheServerWill(string reference, string granted, Decision expected)
    {
        var local = new Dictionary<string, LocalTarget>
        {
            ["urn:uuid:u-existing"] = new(null, null, "Patient/p2"),
            ["urn:uuid:u-created"] = LocalTarget.Created(System.Text.Json.Nodes.JsonNode.Parse("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10009\"}]}")!.AsObject()),
            ["urn:uuid:u-ambiguous"] = LocalTarget.Ambiguous,
        };
        Assert.Equal(expected, Judge(TestSettings.Create(), Obs(reference), local, Grant(granted)));
    }

    [Fact]
    public void EmbeddedTooDeep_Unresolvable()
    {
        var resource = Obs("Patient/p1");
        for (var i = 0; i < ResourceInspector.MaxEmbeddingDepth + 1; i++)
        {
            resource = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":" + resource + "}]}";
        }

        Assert.Equal(Decision.NotGranted, Judge(resource, Grant("*")));
    }

    [Fact]
    public void CouldGrant_TypeAndActionOnly()
    {
        var set = PermissionSet.Parse("[" + Hearth.Testing.Permissions.For("10001", "Observation", "delete") + "]");
        Assert.True(set.CouldGrant("Observation", FhirAction.Delete));
        Assert.False(set.CouldGrant("Observation", FhirAction.Update));
        Assert.False(set.CouldGrant("Condition", FhirAction.Delete));
    }
}
