using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The JSON Hearth writes itself (its OperationOutcomes, answers it re-writes) keeps characters as
/// they are: "+" and "&amp;" read in a terminal, not <c>\u002B</c> and <c>\u0026</c>. Escaping
/// stays where JSON requires it.
/// </summary>
[Collection(HearthCollection.Name)]
public class ReadableJsonTests(HearthEnvironment env)
{
    [Fact]
    public async Task OperationOutcome_PlusSignsAsTheyAre()
    {
        var token = await env.TokenAsync("[" + Permission("*", "Observation") + "," + Permission("*", "Observation", action: "update") + "]");
        using var response = await env.Gateway.Client.SendAsync("PUT", "Observation/obs-03-1", token, "{}", contentType: "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("application/fhir+json", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SubsettedBundle_LinksWithAmpersandsAsTheyAre()
    {
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using var response = await env.Gateway.Client.GetWithTokenAsync("Observation?subject=Patient/p03&_count=5&_elements=status", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("&_count=5", text, StringComparison.Ordinal); // in the self link, written again by Hearth
        Assert.DoesNotContain("\\u0026", text, StringComparison.OrdinalIgnoreCase);
    }
}
