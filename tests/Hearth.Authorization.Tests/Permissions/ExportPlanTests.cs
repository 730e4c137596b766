using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Permissions;

public class ExportPlanTests
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    private static readonly string N = Uri.EscapeDataString(Conf + "|N");
    private static readonly string R = Uri.EscapeDataString(Conf + "|R");

    private static string For(string patient, string type = "*", string action = "read", string labels = "\"*\"", bool deny = false)
        => "{" + (deny ? "\"deny\":true," : "") + "\"resource_set_id\":{\"patientId\":" + (patient == "*" ? "\"*\"" : "{\"system\":\"urn:official:id\",\"value\":\"" + patient + "\"}")
           + ",\"resourceType\":\"" + type + "\"},\"scopes\":[{\"action\":\"" + action + "\",\"securityLabels\":" + labels + "}]}";

    private static string Labels(params string[] codes) => "[" + string.Join(',', codes.Select(c => "{\"system\":\"" + Conf + "\",\"code\":\"" + c + "\"}")) + "]";

    private static ExportPlan Plan(string permissions, string[] types, params string[] clientFilters)
        => PermissionSet.Parse("[" + permissions + "]").PlanExport(types, clientFilters);

    private static string Grant(string type = "*", string labels = "\"*\"", string patient = "*", bool deny = false)
        => For(patient, type, "bulk-export", labels, deny);

    [Fact]
    public void WildcardGrant_NoFilters_ClientFiltersKept()
    {
        var plan = Plan(Grant(), ["Observation"], "Observation?code=1");
        Assert.True(plan.Permitted);
        Assert.Equal(["Observation?code=1"], plan.TypeFilters);
    }

    [Fact]
    public void LabelGrant_AndLabelDeny_OneFilterPerAllowedLabel_EachExcludingTheDenied()
    {
        var plan = Plan(Grant("Observation", Labels("N", "M")) + "," + Grant("Observation", Labels("R"), deny: true), ["Observation"]);
        Assert.True(plan.Permitted);
        Assert.Equal(2, plan.TypeFilters.Count);
        Assert.All(plan.TypeFilters, f => Assert.EndsWith("&_security:not=" + R, f, StringComparison.Ordinal));
        Assert.StartsWith("Observation?_security=" + N, plan.TypeFilters[0], StringComparison.Ordinal);
    }

    [Fact]
    public void ClientFilters_AreNarrowed_NeverWidened()
    {
        var plan = Plan(Grant("Observation", Labels("N")), ["Observation"], "Observation?code=1", "Observation?code=2");
        Assert.Equal(["Observation?code=1&_security=" + N, "Observation?code=2&_security=" + N], plan.TypeFilters);
    }

    [Fact]
    public void EveryType_WithLabelRestrictions_NoTypelessFilter()
    {
        var plan = Plan(Grant("*", Labels("N")), []);
        Assert.True(plan.Permitted);
        Assert.Empty(plan.TypeFilters); // enforced line by line at download
    }

    [Fact]
    public void EveryType_ClientFiltersKept()
    {
        var plan = Plan(Grant("*", Labels("N")), [], "Observation?code=1", "Condition?code=2");
        Assert.True(plan.Permitted);
        Assert.Equal(["Observation?code=1", "Condition?code=2"], plan.TypeFilters);
    }

    [Theory]
    [InlineData("Observation", "Condition")]
    [InlineData("Observation", "*")]
    public void TypeNotGranted_Unmet(string granted, string requested)
    {
        var plan = Plan(Grant(granted), requested == "*" ? [] : [requested]);
        Assert.False(plan.Permitted);
        Assert.Equal(requested, plan.Unmet.Single().ResourceType);
        Assert.Null(plan.Unmet.Single().Patients);
        Assert.Equal(FhirAction.BulkExport, plan.Unmet.Single().Action);
    }

    [Fact]
    public void PatientGrant_IsNotAnExportGrant_PatientDeny_DoesNotBlock()
    {
        Assert.False(Plan(Grant(patient: "10001"), ["Observation"]).Permitted);
        var plan = Plan(Grant() + "," + Grant(patient: "10001", deny: true), ["Observation"]);
        Assert.True(plan.Permitted);
        Assert.Empty(plan.TypeFilters);
    }

    [Fact]
    public void WholeTypeDeny_Blocks()
        => Assert.False(Plan(Grant() + "," + Grant("Observation", deny: true), ["Observation", "Condition"]).Permitted);

    [Fact]
    public void ReadGrant_IsNotBulkExport()
        => Assert.False(PermissionSet.Parse("[" + For("*") + "]").PlanExport(["Observation"], []).Permitted);

    [Theory]
    [InlineData("status=final")]
    [InlineData("Nonsense?x=1")]
    public void MalformedClientFilter_Error(string filter)
        => Assert.NotNull(Plan(Grant(), ["Observation"], filter).Error);

    [Theory]
    [InlineData("GET", "/$export", FhirInteraction.BulkExport, null)]
    [InlineData("GET", "/Patient/$export", FhirInteraction.BulkExport, "Patient")]
    [InlineData("GET", "/Group/g1/$export", FhirInteraction.BulkExport, "Group")]
    [InlineData("GET", "/_hearth/export/AAAAAAAAAAAAAAAAAAAAAA", FhirInteraction.ExportStatus, null)]
    [InlineData("DELETE", "/_hearth/export/AAAAAAAAAAAAAAAAAAAAAA", FhirInteraction.ExportStatus, null)]
    [InlineData("GET", "/_hearth/export/AAAAAAAAAAAAAAAAAAAAAA/file/12", FhirInteraction.ExportFile, null)]
    public void Classified(string method, string path, FhirInteraction interaction, string? type)
    {
        var request = RequestClassifier.Classify(method, path, new HashSet<string>()).Request;
        Assert.NotNull(request);
        Assert.Equal(interaction, request.Interaction);
        Assert.Equal(type, request.ResourceType);
        Assert.Equal(FhirAction.BulkExport, request.Action);
    }

    [Theory]
    [InlineData("HEAD", "/$export")]
    [InlineData("GET", "/_hearth/export/short")]
    [InlineData("GET", "/_hearth/export/AAAAAAAAAAAAAAAAAAAAAA/file/x")]
    [InlineData("PUT", "/_hearth/export/AAAAAAAAAAAAAAAAAAAAAA")]
    public void NotAnExportRequest_Refused(string method, string path)
        => Assert.Null(RequestClassifier.Classify(method, path).Request);
}
