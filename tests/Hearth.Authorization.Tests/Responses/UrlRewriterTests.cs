using System.Buffers;
using System.Text;
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

    /// <summary>The UTF-8 form, written as the answer is sent, agrees with the text form everywhere (and announces its length).</summary>
    [Theory]
    [InlineData("\"http://f/fhir/Patient/1\"")]
    [InlineData("\"http://f/fhir?_getpages=x\"")]
    [InlineData("\"http://f/fhir\"")]
    [InlineData("http://f/fhir")]
    [InlineData("http://f/fhir#frag http://f/fhir\\/x")]
    [InlineData("\"http://f/fhirish/Patient/1\"")]
    [InlineData("a http://f/fhir/A b http://f/fhir/B http://f/fhirX http://f/fhir")]
    [InlineData("http://f/fhirhttp://f/fhir/")]
    [InlineData("héllo \u00e9 http://f/fhir/é")]
    [InlineData("no base here")]
    [InlineData("")]
    public void Rewrite_Utf8_SameAsText(string input)
    {
        var from = Encoding.UTF8.GetBytes("http://f/fhir");
        var to = Encoding.UTF8.GetBytes("https://gw.example/r4");
        var output = new ArrayBufferWriter<byte>();
        UrlRewriter.Rewrite(Encoding.UTF8.GetBytes(input), from, to, output);

        var expected = UrlRewriter.Rewrite(input, "http://f/fhir", "https://gw.example/r4");
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), UrlRewriter.RewrittenLength(Encoding.UTF8.GetBytes(input), from, to));
    }
}
