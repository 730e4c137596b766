using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>Which answers are judged as JSON: the Content-Type is read as sent, not parsed into header objects.</summary>
public class UpstreamAnswerTests
{
    [Theory]
    [InlineData("application/fhir+json", true)]
    [InlineData("application/fhir+json; charset=utf-8", true)]
    [InlineData("application/json;charset=UTF-8", true)]
    [InlineData(" Application/FHIR+JSON ;fhirVersion=4.0", true)]
    [InlineData("application/json+fhir", true)]
    [InlineData("application/fhir+xml", false)]
    [InlineData("text/html", false)]
    [InlineData("application/fhir+jsonx", false)]
    [InlineData("application/ndjson", false)]
    [InlineData("", false)]
    public void IsJsonMediaType_Table(string contentType, bool expected)
        => Assert.Equal(expected, UpstreamAnswer.IsJsonMediaType(contentType));

    [Theory]
    [InlineData("application/fhir+json; charset=utf-8", true)]
    [InlineData("text/plain", false)]
    public async Task IsJson_ReadsTheAnswersHeader(string contentType, bool expected)
    {
        using var message = new HttpResponseMessage { Content = new ByteArrayContent([]) };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        Assert.Equal(expected, await IsJsonAsync(message));
    }

    [Fact]
    public async Task IsJson_NoContentType_False()
    {
        using var message = new HttpResponseMessage { Content = new ByteArrayContent([]) };
        Assert.False(await IsJsonAsync(message));
    }

    private static async Task<bool> IsJsonAsync(HttpResponseMessage message)
    {
        using var answer = await UpstreamAnswer.ReadAsync(message, CancellationToken.None);
        return answer.IsJson;
    }
}
