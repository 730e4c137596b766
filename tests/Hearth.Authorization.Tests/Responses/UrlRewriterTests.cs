using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Tests.Responses;

public class UrlRewriterTests
{
    [Theory]
    [InlineData("\"http://f/fhir/Patient/1\"", "\"https://gw/Patient/1\"")]
    [InlineData("\"http://f/fhir?_getpages=x\"", "\"https://gw?_getpages=x\"")]
    [InlineData("\"http://f/fhir\"", "\"https://gw\"")]
    [InlineData("\"http://f/fhirish/Patient/1\"", "\"http://f/fhirish/Patient/1\"")]
    [InlineData("a http://f/fhir/A b http://f/fhir/B", "a https://gw/A b https://gw/B")]
    [InlineData("no base here", "no base here")]
    public void Rewrite_Text(string input, string expected)
        => Assert.Equal(expected, UrlRewriter.Rewrite(input, "http://f/fhir", "https://gw"));

    [Theory]
    [InlineData("http://f/fhir/Patient/1/_history/2", "https://gw/Patient/1/_history/2")]
    [InlineData("http://f/fhirish/Patient/1", "http://f/fhirish/Patient/1")]
    [InlineData("http://other/Patient/1", "http://other/Patient/1")]
    public void RewriteHeader_OnlyUnderBase(string input, string expected)
        => Assert.Equal(expected, UrlRewriter.RewriteHeader(input, "http://f/fhir", "https://gw"));
}
