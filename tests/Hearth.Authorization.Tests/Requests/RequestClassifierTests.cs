using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Requests;

public class RequestClassifierTests
{
    [Theory]
    [InlineData("/metadata", FhirInteraction.Capabilities, "CapabilityStatement", null)]
    [InlineData("/.well-known/smart-configuration", FhirInteraction.SmartConfiguration, null, null)]
    [InlineData("/", FhirInteraction.SearchSystem, null, null)]
    [InlineData("/_history", FhirInteraction.HistorySystem, null, null)]
    [InlineData("/Patient", FhirInteraction.SearchType, "Patient", null)]
    [InlineData("/Patient/p01", FhirInteraction.Read, "Patient", "p01")]
    [InlineData("/Patient/_history", FhirInteraction.HistoryType, "Patient", null)]
    [InlineData("/Patient/p01/_history", FhirInteraction.HistoryInstance, "Patient", "p01")]
    [InlineData("/Patient/p01/_history/3", FhirInteraction.VRead, "Patient", "p01")]
    [InlineData("/Patient/p01/Observation", FhirInteraction.SearchCompartment, "Observation", "p01")]
    [InlineData("/Patient/p01/$everything", FhirInteraction.Operation, "Patient", "p01")]
    [InlineData("/Observation/$lastn", FhirInteraction.Operation, "Observation", null)]
    [InlineData("/$meta", FhirInteraction.Operation, null, null)]
    [InlineData("/Observation/a.b-1", FhirInteraction.Read, "Observation", "a.b-1")]
    public void Classify_Get_Accepted(string path, FhirInteraction interaction, string? type, string? id)
    {
        var result = RequestClassifier.Classify("GET", path);
        Assert.False(result.IsRefused, result.Diagnostics);
        Assert.Equal(interaction, result.Request!.Interaction);
        Assert.Equal(type, result.Request.ResourceType);
        Assert.Equal(id, result.Request.Id);
        Assert.Equal("read", result.Request.Action.Name()); // Pauldron's read, whether by id or by search
    }

    [Theory]
    [InlineData("/Patient/p01", FhirAction.Read)]
    [InlineData("/Patient/p01/_history/1", FhirAction.Read)]
    [InlineData("/Patient/p01/_history", FhirAction.Read)] // instance history: SMART r
    [InlineData("/Patient", FhirAction.Search)]
    [InlineData("/", FhirAction.Search)]
    [InlineData("/Patient/_history", FhirAction.Search)] // type and system history: SMART s
    [InlineData("/_history", FhirAction.Search)]
    [InlineData("/Patient/p01/Observation", FhirAction.Search)]
    [InlineData("/Patient/p01/$everything", FhirAction.Search)] // operations answer with Bundles
    public void Classify_ReadById_Or_Search(string path, FhirAction action)
        => Assert.Equal(action, RequestClassifier.Classify("GET", path).Request!.Action);

    [Theory]
    [InlineData("/Patient/../Observation", 400)]
    [InlineData("/Patient/./p01", 400)]
    [InlineData("/Patient//p01", 400)]
    [InlineData("//Patient", 400)]
    [InlineData("/Patient/", 400)]
    [InlineData("/Patient%2Fp01", 400)]
    [InlineData("/Patient/p%30%31", 400)]
    [InlineData("/Patient\\p01", 400)]
    [InlineData("/Patient;x=1/p01", 400)]
    [InlineData("/patient/p01", 400)]
    [InlineData("/NotAType", 400)]
    [InlineData("/Patient/p01/_history/1/extra", 400)]
    [InlineData("/Patient/_search", 400)]
    [InlineData("/Patient/p01/NotAType", 400)]
    [InlineData("/Patient/" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400)]
    [InlineData("/healthz/x", 400)]
    [InlineData("", 400)]
    public void Classify_Unclassifiable_Refused(string path, int status)
    {
        var result = RequestClassifier.Classify("GET", path);
        Assert.True(result.IsRefused);
        Assert.Equal(status, result.Status);
        Assert.NotEmpty(result.Diagnostics);
    }

    [Theory]
    [InlineData("POST", "/Observation", FhirInteraction.Create, "Observation", null, "create")]
    [InlineData("PUT", "/Observation/o1", FhirInteraction.Update, "Observation", "o1", "update")]
    [InlineData("PATCH", "/Observation/o1", FhirInteraction.Patch, "Observation", "o1", "update")]
    [InlineData("DELETE", "/Observation/o1", FhirInteraction.Delete, "Observation", "o1", "delete")]
    [InlineData("delete", "/Patient/p01", FhirInteraction.Delete, "Patient", "p01", "delete")]
    public void Classify_Writes_Accepted(string method, string path, FhirInteraction interaction, string type, string? id, string action)
    {
        var result = RequestClassifier.Classify(method, path);
        Assert.False(result.IsRefused, result.Diagnostics);
        Assert.Equal((interaction, type, id, action), (result.Request!.Interaction, result.Request.ResourceType, result.Request.Id, result.Request.Action.Name()));
        Assert.True(result.Request.IsWrite);
    }

    [Theory]
    [InlineData("PUT", "/Observation", FhirInteraction.Update)]
    [InlineData("PATCH", "/Observation", FhirInteraction.Patch)]
    [InlineData("DELETE", "/Observation", FhirInteraction.Delete)]
    public void Classify_ConditionalWrites_AreConditional_WithoutAnId(string method, string path, FhirInteraction interaction)
    {
        var result = RequestClassifier.Classify(method, path);
        Assert.False(result.IsRefused, result.Diagnostics);
        Assert.Equal((interaction, "Observation", (string?)null, true), (result.Request!.Interaction, result.Request.ResourceType, result.Request.Id, result.Request.Conditional));
        Assert.False(RequestClassifier.Classify(method, path + "/1").Request!.Conditional);
    }

    [Fact]
    public void Classify_PostToBase_IsABatch()
        => Assert.Equal(FhirInteraction.Batch, RequestClassifier.Classify("POST", "/").Request!.Interaction);

    [Theory]
    [InlineData("POST", "/Patient/p01/_search")]
    [InlineData("POST", "/Patient/p01")]
    [InlineData("PUT", "/Patient/p01/_history/1")]
    [InlineData("DELETE", "/Patient/p01/Observation")]
    [InlineData("OPTIONS", "/Patient")]
    [InlineData("TRACE", "/metadata")]
    public void Classify_OtherMethods_RefusedAsNotSupportedYet(string method, string path)
    {
        var result = RequestClassifier.Classify(method, path);
        Assert.True(result.IsRefused);
        Assert.Equal(403, result.Status);
        Assert.Equal("not-supported", result.IssueCode);
    }

    [Theory]
    [InlineData("POST", "/Observation/_search", FhirInteraction.SearchType, "Observation")]
    [InlineData("POST", "/_search", FhirInteraction.SearchSystem, null)]
    public void Classify_PostSearch_IsAFormSearch(string method, string path, FhirInteraction interaction, string? type)
    {
        var request = RequestClassifier.Classify(method, path).Request!;
        Assert.Equal((interaction, type, "read", true, false), (request.Interaction, request.ResourceType, request.Action.Name(), request.FormSearch, request.IsWrite));
    }

    [Theory]
    [InlineData("/Patient/p01/$everything", "everything")]
    [InlineData("/Observation/$lastn", "lastn")]
    [InlineData("/$meta", "meta")]
    public void Classify_Operation_NamesIt(string path, string operation)
        => Assert.Equal(operation, RequestClassifier.Classify("GET", path).Request!.Operation);

    [Theory]
    [InlineData("GET", "/Patient/p01/$everything", 200, OperationKind.Reads)]
    [InlineData("POST", "/Patient/p01/$everything", 200, OperationKind.Reads)]
    [InlineData("POST", "/Encounter/e1/$everything", 200, OperationKind.Reads)]
    [InlineData("GET", "/Observation/$everything", 400, null)] // not defined on Observation
    [InlineData("GET", "/Observation/$lastn", 200, OperationKind.Reads)]
    [InlineData("GET", "/Observation/o1/$lastn", 400, null)] // type level only
    [InlineData("GET", "/$meta", 200, OperationKind.MetaRead)]
    [InlineData("POST", "/Observation/o1/$meta", 200, OperationKind.MetaRead)]
    [InlineData("POST", "/Observation/o1/$meta-add", 200, OperationKind.MetaWrite)]
    [InlineData("GET", "/Observation/o1/$meta-add", 400, null)] // changes data: POST only
    [InlineData("POST", "/Observation/$meta-delete", 400, null)] // instance level only
    [InlineData("POST", "/Observation/$validate", 200, OperationKind.Validate)]
    [InlineData("GET", "/Observation/$validate", 400, null)]
    [InlineData("POST", "/$graphql", 200, OperationKind.GraphQL)]
    [InlineData("POST", "/ValueSet/$expand", 200, OperationKind.Reads)]
    [InlineData("POST", "/Observation/$expand", 400, null)]
    [InlineData("GET", "/Observation/$export", 400, null)]
    [InlineData("GET", "/Patient/p01/$graph", 403, null)]
    [InlineData("POST", "/$reindex", 403, null)]
    [InlineData("GET", "/Patient/p01/$custom", 200, OperationKind.Reads)] // added by HEARTH_ALLOWED_OPERATIONS
    [InlineData("POST", "/$custom", 200, OperationKind.Reads)]
    public void Classify_Operations_ByTheTable(string method, string path, int status, OperationKind? kind)
    {
        var result = RequestClassifier.Classify(method, path, new HashSet<string> { "custom" });
        Assert.Equal(status, result.Status);
        Assert.Equal(kind, result.Request?.OperationRule?.Kind);
        Assert.Equal(method == "POST" && status == 200, result.Request?.ByPost ?? false);
        Assert.True(status != 403 || result.Diagnostics.Contains('$' + path.Split('$')[1], StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/$export", null, null)]
    [InlineData("/Patient/$export", "Patient", null)]
    [InlineData("/Group/g1/$export", "Group", "g1")]
    public void Classify_ExportByPost_IsAKickOff(string path, string? type, string? id)
    {
        var request = RequestClassifier.Classify("POST", path).Request!;
        Assert.Equal((FhirInteraction.BulkExport, type, id, true), (request.Interaction, request.ResourceType, request.Id, request.ByPost));
    }

    [Fact]
    public void Classify_Head_LikeGet()
        => Assert.Equal(FhirInteraction.Read, RequestClassifier.Classify("HEAD", "/Patient/p01").Request!.Interaction);

    [Fact]
    public void Classify_LowercaseGet_Accepted()
        => Assert.False(RequestClassifier.Classify("get", "/Patient").IsRefused);
}
