using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Grants = Hearth.Testing.Permissions;

namespace Hearth.Authorization.Tests.Requests;

public class SearchCriteriaTests
{
    public static TheoryData<string?, string, string[]?> Reaches => new()
    {
        { "Observation", "code", [] },
        { "Observation", "code:text", [] },
        { "Observation", "subject", [] },
        { "Observation", "_include", [] },
        { "Observation", "subject:Patient.family", ["Patient"] },
        { "Observation", "subject:Patient.name:exact", ["Patient"] },
        { "Observation", "subject.name", ["Device", "Group", "Location", "Patient"] }, // every type subject can point at
        { "Observation", "patient.identifier", ["Group", "Patient"] },
        { "Observation", "subject:Patient.organization.name", ["Patient", "Organization"] },
        { "Observation", "subject:Patient.general-practitioner:Practitioner.name", ["Patient", "Practitioner"] },
        { "Observation", "nonsense.name", null }, // an unknown link: could be anything
        { "Observation", "subject:Nonsense.name", null },
        { null, "subject.name", null }, // a search of every type: the link's targets are unknown
        { "Patient", "_has:Observation:patient:code", ["Observation"] },
        { "Patient", "_has:Observation:patient:_has:AuditEvent:entity:agent", ["Observation", "AuditEvent"] },
        { "Patient", "_has:Observation:patient:performer:Practitioner.name", ["Observation", "Practitioner"] },
        { "Patient", "_has:Nonsense:patient:code", null },
        { "Patient", "_has:Observation", null },
        { "Observation", "_filter", null },
        { "Observation", "_query", null },
        { "Observation", "_contained", null },
        { "Observation", "_containedType", null },
        { "Patient", "_list", ["List"] },
    };

    [Theory]
    [MemberData(nameof(Reaches))]
    public void Reach(string? baseType, string parameter, string[]? expected)
    {
        var reach = SearchCriteria.Reach(baseType, parameter);
        if (expected is null)
        {
            Assert.Null(reach);
        }
        else
        {
            Assert.NotNull(reach);
            Assert.Equal(expected.Order(), reach.Order());
        }
    }

    public static TheoryData<string, string, string[], bool> Allowed => new()
    {
        { "one patient's Observations, ordinary criteria", "[" + Grants.For("10001", "Observation") + "]", ["subject", "code"], true },
        { "a chain into Patient without a Patient grant", "[" + Grants.For("10001", "Observation") + "]", ["subject:Patient.family"], false },
        { "a chain into Patient with one patient's Patient", "[" + Grants.For("10001") + "]", ["subject:Patient.family"], false },
        { "a chain into Patient, any Patient", "[" + Grants.For("10001", "Observation") + "," + Grants.For("*", "Patient") + "]", ["subject:Patient.family"], true },
        { "... but labels restricted", "[" + Grants.For("*", "Patient", labels: Grants.Labels("N")) + "]", ["subject:Patient.family"], false },
        { "... but one patient denied", "[" + Grants.For("*", "Patient") + "," + Grants.For("10002", "Patient", deny: true) + "]", ["subject:Patient.family"], false },
        { "... a deny of another type does not matter", "[" + Grants.For("*", "Patient") + "," + Grants.For("10002", "Condition", deny: true) + "]", ["subject:Patient.family"], true },
        { "subject.name needs every type subject reaches", "[" + Grants.For("*", "Patient") + "]", ["subject.name"], false },
        { "_has with an unrestricted grant of that type", "[" + Grants.For("*", "Observation") + "]", ["_has:Observation:patient:code"], true },
        { "_filter needs every type", "[" + Grants.For("*", "Observation") + "]", ["_filter"], false },
        { "_filter with everything", "[" + Grants.For("*") + "]", ["_filter"], true },
        { "a chain into an unprotected type", "[" + Grants.For("10001", "Observation") + "]", ["performer:Organization.name"], true },
        { "a sort by an ordinary parameter", "[" + Grants.For("10001", "Observation") + "]", ["_sort=-date,code"], true },
        { "a sort by a chain: the order would tell", "[" + Grants.For("10001", "Observation") + "]", ["_sort=-subject:Patient.family"], false },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Unreadable(string name, string permissions, string[] parameters, bool allowed)
    {
        var settings = TestSettings.Rules(("UNPROTECTED_RESOURCE_TYPES", "Organization"));
        var refusal = SearchCriteria.Unreadable("Observation", parameters.Select(p => p.Split('=')).Select(p => KeyValuePair.Create(p[0], (IReadOnlyList<string>)(p.Length > 1 ? [p[1]] : []))),
            PermissionSet.Parse(permissions), settings);
        Assert.True(allowed == refusal is null, name);
    }
}
