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

    /// <summary>Sends <paramref name="method"/> with an optional bearer token, body, Accept and Prefer.</summary>
    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, string method, string path, string? token, string? body = null,
        string contentType = "application/fhir+json", string? accept = null, string? prefer = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }

        return await client.SendAsync(request);
    }

    /// <summary>POSTs a batch or transaction Bundle of <paramref name="entries"/>.</summary>
    public static Task<HttpResponseMessage> PostBundleAsync(this HttpClient client, string type, string? token, params JsonNode[] entries)
        => client.SendAsync("POST", "", token, new JsonObject { ["resourceType"] = "Bundle", ["type"] = type, ["entry"] = new JsonArray(entries) }.ToJsonString());

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

    /// <summary>
    /// Asserts a search answered as if nothing had matched (OAuth mode, HEARTH_SEARCH_ALL_REMOVED=empty):
    /// 200, a Bundle without entries or total. Returns it (its links, e.g. next, stay).
    /// </summary>
    public static async Task<JsonObject> AssertEmptySearchAsync(this HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var bundle = await response.JsonAsync();
        Assert.Equal("Bundle", bundle["resourceType"]!.GetValue<string>());
        Assert.Null(bundle["entry"]);
        Assert.Null(bundle["total"]);
        return bundle;
    }

    public static string Challenge(this HttpResponseMessage response)
        => string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));

    public static MediaTypeWithQualityHeaderValue FhirJson { get; } = new("application/fhir+json");
}
