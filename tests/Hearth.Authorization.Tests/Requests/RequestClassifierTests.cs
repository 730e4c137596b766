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
        Assert.Equal("read", result.Request.Action);
    }

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
    [InlineData("POST", "/")]
    [InlineData("POST", "/Patient/_search")]
    [InlineData("PUT", "/Patient/p01")]
    [InlineData("PATCH", "/Patient/p01")]
    [InlineData("DELETE", "/Patient/p01")]
    [InlineData("HEAD", "/Patient/p01")]
    [InlineData("OPTIONS", "/Patient")]
    [InlineData("TRACE", "/metadata")]
    public void Classify_NotGet_RefusedAsNotSupportedYet(string method, string path)
    {
        var result = RequestClassifier.Classify(method, path);
        Assert.True(result.IsRefused);
        Assert.Equal(403, result.Status);
        Assert.Equal("not-supported", result.IssueCode);
    }

    [Fact]
    public void Classify_LowercaseGet_Accepted()
        => Assert.False(RequestClassifier.Classify("get", "/Patient").IsRefused);
}
