using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Tests.Permissions;

public class PermissionSetTests
{
    private const string N = """{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}""";
    private const string R = """{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}""";
    private const string P10001 = """{"system":"urn:official:id","value":"10001"}""";
    private const string P10002 = """{"system":"urn:official:id","value":"10002"}""";

    private static readonly SecurityLabel LabelN = new(TestSettings.Conf, "N");
    private static readonly SecurityLabel LabelR = new(TestSettings.Conf, "R");
    private static readonly PatientIdentifier Patient1 = new("urn:official:id", "10001");
    private static readonly PatientIdentifier Patient2 = new("urn:official:id", "10002");

    // Required permission shorthands: patient (1, 2, 12 = both, 0 = outside the compartment), type, action, labels.
    private static RequiredPermission Req(int patient, string type, string action, params SecurityLabel[] labels)
        => new(patient switch
        {
            0 => null,
            1 => [TestResolution.Patient(Patient1)],
            2 => [TestResolution.Patient(Patient2)],
            _ => [TestResolution.Patient(Patient1), TestResolution.Patient(Patient2)],
        }, type, Enum.GetValues<FhirAction>().First(a => a.Name() == action), labels);

    private static string Grant(string patient, string type, string scopes, string? rsidLabel = null, bool deny = false)
        => "{" + (deny ? "\"deny\":true," : "") + "\"resource_set_id\":{\"patientId\":" + patient + ",\"resourceType\":" + type
           + (rsidLabel is null ? "" : ",\"securityLabel\":" + rsidLabel) + "},\"scopes\":" + scopes + "}";

    public static TheoryData<string, string, RequiredPermission, Decision> Cases => new()
    {
        // Shape 1: labels in resource_set_id, scopes are action strings.
        { "shape 1 exact", "[" + Grant(P10001, "\"Specimen\"", "[\"read\"]", "[" + N + "]") + "]", Req(1, "Specimen", "read", LabelN), Decision.Permit },
        { "shape 1 other action", "[" + Grant(P10001, "\"Specimen\"", "[\"read\"]", "[" + N + "]") + "]", Req(1, "Specimen", "update", LabelN), Decision.NotGranted },
        { "shape 1 label object", "[" + Grant(P10001, "\"Specimen\"", "[\"read\"]", N) + "]", Req(1, "Specimen", "read", LabelN), Decision.Permit },
        { "shape 1 other label", "[" + Grant(P10001, "\"Specimen\"", "[\"read\"]", "[" + N + "]") + "]", Req(1, "Specimen", "read", LabelR), Decision.NotGranted },
        // Shape 2: scopes are {action, securityLabels}.
        { "shape 2 exact", "[" + Grant(P10001, "\"Specimen\"", "[{\"action\":\"read\",\"securityLabels\":[" + N + "]}]") + "]", Req(1, "Specimen", "read", LabelN), Decision.Permit },
        { "shape 2 other patient", "[" + Grant(P10001, "\"Specimen\"", "[{\"action\":\"read\",\"securityLabels\":[" + N + "]}]") + "]", Req(2, "Specimen", "read", LabelN), Decision.NotGranted },
        { "shape 2 other type", "[" + Grant(P10001, "\"Specimen\"", "[{\"action\":\"read\",\"securityLabels\":[" + N + "]}]") + "]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "shape 2 second scope", "[" + Grant(P10001, "\"Specimen\"", "[{\"action\":\"update\",\"securityLabels\":\"*\"},{\"action\":\"read\",\"securityLabels\":[" + R + "]}]") + "]", Req(1, "Specimen", "read", LabelR), Decision.Permit },
        // Wildcards: anything, including absent.
        { "wildcard patient", "[" + Grant("\"*\"", "\"Specimen\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(2, "Specimen", "read", LabelR), Decision.Permit },
        { "wildcard patient outside compartment", "[" + Grant("\"*\"", "\"Organization\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(0, "Organization", "read", LabelN), Decision.Permit },
        { "named patient outside compartment", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(0, "Organization", "read", LabelN), Decision.NotGranted },
        { "wildcard type", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "wildcard action string", "[" + Grant(P10001, "\"*\"", "[\"*\"]", "\"*\"") + "]", Req(1, "Observation", "delete", LabelN), Decision.Permit },
        { "wildcard action in object", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"*\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "update", LabelR), Decision.Permit },
        { "wildcard labels cover unlabelled", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "read"), Decision.Permit },
        { "wildcard system in patientId", "[" + Grant("{\"system\":\"*\",\"value\":\"10001\"}", "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "wildcard code in label", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[{\"system\":\"" + TestSettings.Conf + "\",\"code\":\"*\"}]}]") + "]", Req(1, "Observation", "read", LabelR), Decision.Permit },
        // Arrays: any one element; an array of labels must cover every label.
        { "array of types", "[" + Grant(P10001, "[\"Observation\",\"Immunization\"]", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Immunization", "read", LabelN), Decision.Permit },
        { "array of types miss", "[" + Grant(P10001, "[\"Observations\",\"Immunization\"]", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "array of patients", "[" + Grant("[" + P10001 + "," + P10002 + "]", "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "]", Req(2, "Observation", "read", LabelN), Decision.Permit },
        { "array of actions", "[" + Grant(P10001, "\"*\"", "[{\"action\":[\"read\",\"update\"],\"securityLabels\":\"*\"}]") + "]", Req(1, "Observation", "update", LabelN), Decision.Permit },
        { "labels array covers all", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[" + N + "," + R + "]}]") + "]", Req(1, "Observation", "read", LabelN, LabelR), Decision.Permit },
        { "labels array misses one", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[" + N + "]}]") + "]", Req(1, "Observation", "read", LabelN, LabelR), Decision.NotGranted },
        { "two patients both granted", "[" + Grant("[" + P10001 + "," + P10002 + "]", "\"*\"", "[\"read\"]", "\"*\"") + "]", Req(12, "Observation", "read", LabelN), Decision.Permit },
        { "two patients granted separately", "[" + Grant(P10001, "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant(P10002, "\"*\"", "[\"read\"]", "\"*\"") + "]", Req(12, "Observation", "read", LabelN), Decision.Permit },
        { "two patients one granted", "[" + Grant(P10001, "\"*\"", "[\"read\"]", "\"*\"") + "]", Req(12, "Observation", "read", LabelN), Decision.NotGranted },
        // Absent labels grant only unlabelled resources.
        { "absent labels, unlabelled", "[" + Grant(P10001, "\"*\"", "[\"read\"]") + "]", Req(1, "Observation", "read"), Decision.Permit },
        { "absent labels, labelled", "[" + Grant(P10001, "\"*\"", "[\"read\"]") + "]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        // Deny: applies when it overlaps in every dimension ("*" overlaps everything).
        { "deny restricted", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "," + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[" + R + "]}]", deny: true) + "]", Req(1, "Observation", "read", LabelR), Decision.ExplicitlyDenied },
        { "deny restricted spares normal", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "," + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[" + R + "]}]", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "deny one of several labels", "[" + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":\"*\"}]") + "," + Grant(P10001, "\"*\"", "[{\"action\":\"read\",\"securityLabels\":[" + R + "]}]", deny: true) + "]", Req(1, "Observation", "read", LabelN, LabelR), Decision.ExplicitlyDenied },
        { "deny wildcard everything", "[" + Grant("\"*\"", "\"*\"", "[\"*\"]", "\"*\"") + "," + Grant("\"*\"", "\"*\"", "[{\"action\":\"*\",\"securityLabels\":\"*\"}]", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.ExplicitlyDenied },
        { "deny other patient", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant(P10002, "\"*\"", "[\"read\"]", "\"*\"", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "deny other type", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant("\"*\"", "\"Specimen\"", "[\"read\"]", "\"*\"", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "deny other action", "[" + Grant("\"*\"", "\"*\"", "[\"*\"]", "\"*\"") + "," + Grant("\"*\"", "\"*\"", "[\"delete\"]", "\"*\"", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "deny one of two patients", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant(P10002, "\"*\"", "[\"read\"]", "\"*\"", deny: true) + "]", Req(12, "Observation", "read", LabelN), Decision.ExplicitlyDenied },
        { "deny named patient spares outside compartment", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant(P10001, "\"*\"", "[\"read\"]", "\"*\"", deny: true) + "]", Req(0, "Organization", "read", LabelN), Decision.Permit },
        { "deny array of types", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant("\"*\"", "[\"Specimen\",\"Observation\"]", "[\"read\"]", "\"*\"", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.ExplicitlyDenied },
        { "deny without scopes denies all actions", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + ",{\"deny\":true,\"resource_set_id\":{\"patientId\":" + P10001 + ",\"resourceType\":\"*\"}}]", Req(1, "Observation", "read", LabelN), Decision.ExplicitlyDenied },
        { "deny with unreadable type fails closed", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + "," + Grant(P10001, "42", "[\"read\"]", "\"*\"", deny: true) + "]", Req(1, "Observation", "read", LabelN), Decision.ExplicitlyDenied },
        { "deny false is a grant", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"").Replace("{\"resource_set_id\"", "{\"deny\":false,\"resource_set_id\"") + "]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        // Permissions that are not about FHIR are ignored, not errors.
        { "foreign string resource_set_id", "[{\"resource_set_id\":\"test_res_id\",\"scopes\":[\"s1\"]}]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "foreign deny ignored", "[" + Grant("\"*\"", "\"*\"", "[\"read\"]", "\"*\"") + ",{\"deny\":true,\"resource_set_id\":\"test_res_id\",\"scopes\":[\"s1\"]}]", Req(1, "Observation", "read", LabelN), Decision.Permit },
        { "garbage elements ignored", "[42, \"x\", null, [], {}]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "unreadable grant grants nothing", "[" + Grant("{\"system\":\"urn:official:id\"}", "\"*\"", "[\"read\"]", "\"*\"") + "]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "empty", "[]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
        { "case matters", "[" + Grant(P10001, "\"observation\"", "[\"read\"]", "\"*\"") + "]", Req(1, "Observation", "read", LabelN), Decision.NotGranted },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_Table(string name, string permissions, RequiredPermission required, Decision expected)
    {
        var set = PermissionSet.Parse(permissions);
        Assert.True(expected == set.Evaluate(required), $"{name}: expected {expected}, got {set.Evaluate(required)}");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"a\":1}")]
    [InlineData("")]
    [InlineData(null)]
    public void Parse_NotAnArray_IsEmpty(string? json)
    {
        var set = PermissionSet.Parse(json);
        Assert.Equal(0, set.Count);
        Assert.Equal(Decision.NotGranted, set.Evaluate(Req(1, "Patient", "read", LabelN)));
    }
}
