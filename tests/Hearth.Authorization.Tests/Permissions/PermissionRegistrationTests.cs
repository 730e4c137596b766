using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Permissions;

public class PermissionRegistrationTests
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    [Fact]
    public void From_OnePermissionPerPatient_InPauldronsShape()
    {
        var required = new RequiredPermission(
            [TestResolution.Patient(new PatientIdentifier("urn:official:id", "1")), TestResolution.Patient(new PatientIdentifier(null, "2"))], "Observation", FhirAction.Read, [new SecurityLabel(Conf, "N")]);
        var json = PermissionRegistration.Serialize(PermissionRegistration.From(required));
        Assert.Equal(
            "[{\"resource_set_id\":{\"patientId\":{\"system\":\"urn:official:id\",\"value\":\"1\"},\"resourceType\":\"Observation\",\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"scopes\":[\"read\"]},"
            + "{\"resource_set_id\":{\"patientId\":{\"value\":\"2\"},\"resourceType\":\"Observation\",\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"scopes\":[\"read\"]}]",
            json);
    }

    [Fact]
    public void OutsideThePatientCompartment_AndUnknowns_AreAny()
    {
        var outside = PermissionRegistration.From(new RequiredPermission(null, "Organization", FhirAction.Read, [])).Single();
        Assert.Equal("*", outside["resource_set_id"]!["patientId"]!.GetValue<string>());
        Assert.Equal("[]", outside["resource_set_id"]!["securityLabel"]!.ToJsonString());

        var unknown = PermissionRegistration.Permission(null, null, "read", null);
        Assert.Equal("{\"patientId\":\"*\",\"resourceType\":\"*\",\"securityLabel\":\"*\"}", unknown["resource_set_id"]!.ToJsonString());
    }

    [Fact]
    public void Serialize_RemovesDuplicates_KeepsOrder()
    {
        var a = PermissionRegistration.Permission(new PatientIdentifier("s", "1"), "Observation", "read", []);
        var b = PermissionRegistration.Permission(new PatientIdentifier("s", "2"), "Observation", "read", []);
        var json = JsonNode.Parse(PermissionRegistration.Serialize([a, b, a.DeepClone().AsObject(), b]))!.AsArray();
        Assert.Equal(2, json.Count);
        Assert.Equal("1", json[0]!["resource_set_id"]!["patientId"]!["value"]!.GetValue<string>());
    }

    private static (IReadOnlyList<string> Ids, IReadOnlyList<PatientIdentifier> Identifiers) Named(string method, string path, params (string Key, string Value)[] query)
    {
        var request = RequestClassifier.Classify(method, path).Request!;
        return RequestPatients.Named(request, query.GroupBy(q => q.Key).Select(g => KeyValuePair.Create(g.Key, (IReadOnlyList<string>)g.Select(q => q.Value).ToList())));
    }

    [Theory]
    [InlineData("GET", "/Patient/p1", "p1")]
    [InlineData("GET", "/Patient/p1/_history/2", "p1")]
    [InlineData("DELETE", "/Patient/p1", "p1")]
    [InlineData("GET", "/Patient/p1/Observation", "p1")]
    [InlineData("GET", "/Patient/p1/$everything", "p1")]
    [InlineData("GET", "/Encounter/e1/Observation", "")]
    [InlineData("GET", "/Observation/o1", "")]
    public void Named_IdsFromThePath(string method, string path, string expected)
        => Assert.Equal(expected, string.Join(",", Named(method, path).Ids));

    [Fact]
    public void Named_FromParameters()
    {
        var (ids, identifiers) = Named("GET", "/Observation",
            ("patient", "p1,Patient/p2"), ("subject", "Patient/p3"), ("subject", "Group/g1"), ("subject:Patient", "p4"),
            ("subject:Patient.identifier", "urn:official:id|10001"), ("patient.identifier", "|x"), ("code", "1234"));
        Assert.Equal(["p1", "p2", "p3", "p4"], ids);
        Assert.Equal([new PatientIdentifier("urn:official:id", "10001"), new PatientIdentifier(null, "x")], identifiers);
    }

    [Fact]
    public void Named_PatientSearch_ByIdOrIdentifier()
    {
        var (ids, identifiers) = Named("GET", "/Patient", ("_id", "p9"), ("identifier", "urn:official:id|10009"));
        Assert.Equal(["p9"], ids);
        Assert.Equal([new PatientIdentifier("urn:official:id", "10009")], identifiers);
        Assert.Empty(Named("GET", "/Observation", ("identifier", "urn:x|1"), ("_id", "o1")).Identifiers);
    }
}
