using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Hearth.Gateway.FunctionalTests.Infrastructure;

internal static class HttpExtensions
{
    public static async Task<HttpResponseMessage> GetWithTokenAsync(this HttpClient client, string path, string? token, string scheme = "Bearer")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", scheme + " " + token);
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response)
        => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public static List<string> EntryIds(this JsonObject bundle)
        => (bundle["entry"] as JsonArray ?? []).Select(e => e!["resource"]!["id"]!.GetValue<string>()).ToList();

    /// <summary>Asserts an OperationOutcome body with the given issue code and returns its diagnostics.</summary>
    public static async Task<string> AssertOutcomeAsync(this HttpResponseMessage response, string code)
    {
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.JsonAsync();
        Assert.Equal("OperationOutcome", body["resourceType"]!.GetValue<string>());
        var issue = body["issue"]![0]!;
        Assert.Equal(code, issue["code"]!.GetValue<string>());
        var diagnostics = issue["diagnostics"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(diagnostics));
        Assert.DoesNotContain("   at ", diagnostics, StringComparison.Ordinal); // no stack trace
        return diagnostics;
    }

    public static string Challenge(this HttpResponseMessage response)
        => string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));

    public static MediaTypeWithQualityHeaderValue FhirJson { get; } = new("application/fhir+json");
}
