using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Requests;

public class FormatNegotiationTests
{
    [Theory]
    [InlineData(null, null, FhirFormat.Json)]
    [InlineData("json", "application/fhir+xml", FhirFormat.Json)] // _format wins
    [InlineData("xml", null, FhirFormat.Xml)]
    [InlineData("application/fhir+xml", null, FhirFormat.Xml)]
    [InlineData("text/xml", null, FhirFormat.Xml)]
    [InlineData("application/fhir+json;fhirVersion=4.0", null, FhirFormat.Json)]
    [InlineData("ttl", null, FhirFormat.NotAcceptable)]
    [InlineData(null, "application/fhir+xml", FhirFormat.Xml)]
    [InlineData(null, "application/fhir+json", FhirFormat.Json)]
    [InlineData(null, "*/*", FhirFormat.Json)]
    [InlineData(null, "application/fhir+xml;q=0.9, application/fhir+json", FhirFormat.Json)]
    [InlineData(null, "application/fhir+xml, application/fhir+json;q=0.5", FhirFormat.Xml)]
    [InlineData(null, "application/fhir+xml, */*;q=0.1", FhirFormat.Xml)]
    [InlineData(null, "application/fhir+xml, application/fhir+json", FhirFormat.Json)] // tie: JSON
    [InlineData(null, "text/html", FhirFormat.NotAcceptable)]
    [InlineData(null, "application/fhir+json;q=0", FhirFormat.NotAcceptable)]
    [InlineData(null, "text/turtle, text/*;q=0.2", FhirFormat.Xml)]
    public void Negotiate_Table(string? format, string? accept, FhirFormat expected)
    {
        Assert.Equal(expected, FormatNegotiation.Negotiate(format is null ? [] : [format], accept is null ? [] : [accept]));

        // The shortcut, where it answers, answers the same.
        var plain = FormatNegotiation.Plain(format is null ? 0 : 1, accept is null ? 0 : 1, accept);
        Assert.True(plain is null || plain == expected, $"Plain gave {plain} for {format} / {accept}");
    }

    [Theory]
    [InlineData(null, FhirFormat.Json)]
    [InlineData("application/fhir+json", FhirFormat.Json)]
    [InlineData("application/json", FhirFormat.Json)]
    [InlineData("*/*", FhirFormat.Json)]
    [InlineData("application/fhir+xml", null)]
    [InlineData("application/fhir+json;q=0", null)]
    [InlineData("text/html", null)]
    public void Plain_AnswersOnlyWhatNeedsNoWeighing(string? accept, FhirFormat? expected)
        => Assert.Equal(expected, FormatNegotiation.Plain(0, accept is null ? 0 : 1, accept));

    [Fact]
    public void Plain_NeverAnswersWithFormatParametersOrSeveralAcceptHeaders()
    {
        Assert.Null(FormatNegotiation.Plain(1, 0, null));
        Assert.Null(FormatNegotiation.Plain(0, 2, null));
    }

    [Fact]
    public void Negotiate_SeveralFormatParameters_Invalid()
        => Assert.Equal(FhirFormat.Invalid, FormatNegotiation.Negotiate(["json", "xml"], []));
}
