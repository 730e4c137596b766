using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Testing;

/// <summary>Observes and steers the development FHIR server (deploy/fhir-server) behind Hearth's back.</summary>
public sealed class DevFhirServerClient(HttpClient http, string fhirBase)
{
    private Uri Admin(string path) => new(new Uri(fhirBase), "/__admin/" + path);

    /// <summary>How many requests of a kind the FHIR server received, e.g. "GET Patient read".</summary>
    public async Task<int> CountAsync(string key)
    {
        var stats = await http.GetFromJsonAsync<JsonElement>(Admin("stats"));
        return stats.TryGetProperty(key, out var value) ? value.GetInt32() : 0;
    }

    /// <summary>The headers of the last FHIR request the server received (names in lower case).</summary>
    public async Task<JsonElement> LastHeadersAsync() => await http.GetFromJsonAsync<JsonElement>(Admin("last-headers"));

    /// <summary>The paths and queries (relative to its base) of the last 100 FHIR requests the server received, oldest first.</summary>
    public async Task<IReadOnlyList<string>> RecentUrlsAsync() => (await http.GetFromJsonAsync<List<string>>(Admin("recent-urls")))!;

    /// <summary>The last 100 FHIR requests the server received, oldest first: method, path and query, and the W3C traceparent each came with (null: none).</summary>
    public async Task<IReadOnlyList<(string Method, string Url, string? Traceparent)>> RecentRequestsAsync()
        => (await http.GetFromJsonAsync<List<JsonElement>>(Admin("recent-requests")))!
            .Select(r => (r.GetProperty("method").GetString()!, r.GetProperty("url").GetString()!, r.GetProperty("traceparent").GetString())).ToList();

    /// <summary>The last 100 FHIR requests, oldest first: method, path and query, and the If-None-Exist and If-Match headers each came with (null: none).</summary>
    public async Task<IReadOnlyList<(string Method, string Url, string? IfNoneExist, string? IfMatch)>> RecentConditionsAsync()
        => (await http.GetFromJsonAsync<List<JsonElement>>(Admin("recent-requests")))!
            .Select(r => (r.GetProperty("method").GetString()!, r.GetProperty("url").GetString()!, r.GetProperty("ifNoneExist").GetString(), r.GetProperty("ifMatch").GetString())).ToList();

    public async Task<int> TotalCountAsync()
        => (await http.GetFromJsonAsync<JsonElement>(Admin("stats"))).EnumerateObject().Sum(p => p.Value.GetInt32());

    /// <summary>Makes the next <paramref name="count"/> answers misbehave (html, malformed, gzip, truncate, labelled:&lt;Content-Encoding&gt;).</summary>
    public async Task FaultAsync(string mode, int count = 1)
    {
        using var response = await http.PostAsync(Admin("fault"), JsonContent.Create(new { mode, count }));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Reads directly from the FHIR server (not through Hearth): the truth about its state.</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Resource)> GetAsync(string path)
    {
        using var response = await http.GetAsync(fhirBase + "/" + path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonNode.Parse(text)?.AsObject() : null);
    }

    /// <summary>How many Observations the FHIR server holds for a Patient (read directly).</summary>
    public async Task<int> ObservationCountAsync(string patientId)
    {
        var (_, bundle) = await GetAsync($"Observation?subject=Patient/{patientId}&_count=1000");
        return bundle!["entry"]?.AsArray().Count ?? 0;
    }

    /// <summary>Writes directly to the FHIR server, as another system would.</summary>
    public async Task PutAsync(string path, string json)
    {
        using var response = await http.PutAsync(fhirBase + "/" + path, new StringContent(json, Encoding.UTF8, "application/fhir+json"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Deletes directly at the FHIR server, as another system would.</summary>
    public async Task DeleteAsync(string path)
    {
        using var response = await http.DeleteAsync(fhirBase + "/" + path);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Creates directly at the FHIR server; the id it assigned.</summary>
    public async Task<string> PostAsync(string type, string json)
    {
        using var response = await http.PostAsync(fhirBase + "/" + type, new StringContent(json, Encoding.UTF8, "application/fhir+json"));
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    /// <summary>The dev server's export jobs, oldest first: the searches each ran (the _typeFilter it got) and its files.</summary>
    public async Task<System.Text.Json.Nodes.JsonArray> ExportsAsync()
        => (System.Text.Json.Nodes.JsonArray)System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(Admin("exports")))!;
}
