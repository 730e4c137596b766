using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Reads what is stored under a Type/id for a write's decision: the current version and, for an
/// update that would create, the last version before a delete (from the instance history; a
/// deleted id is not up for grabs). Within one request (a batch) each Type/id is read once.
/// </summary>
internal sealed class StoredVersions(HearthSettings settings, ResponseFilter filter, IHttpClientFactory httpClients)
{
    public const string HttpClientName = "hearth-fhir-stored";

    /// <summary>What is stored: the current version (null: none), and when asked and there is none, the last one before a delete.</summary>
    public sealed record Stored(ParsedResponse? Current, ParsedResponse? Previous)
    {
        public static Stored None { get; } = new(null, null);
    }

    /// <summary>The reads of one request, by Type/id (history or not).</summary>
    public sealed class Cache
    {
        internal ConcurrentDictionary<string, Lazy<Task<Stored>>> Reads { get; } = new(StringComparer.Ordinal);
    }

    /// <exception cref="UpstreamException">The FHIR server could not be asked, or answered something unusable.</exception>
    public Task<Stored> ReadAsync(string type, string id, bool withHistory, Cache? cache, CancellationToken cancellationToken)
    {
        if (cache is null)
        {
            return ReadUncachedAsync(type, id, withHistory, cancellationToken);
        }

        var key = (withHistory ? "h:" : "c:") + type + "/" + id;
        return cache.Reads.GetOrAdd(key, _ => new Lazy<Task<Stored>>(() => ReadUncachedAsync(type, id, withHistory, cancellationToken))).Value;
    }

    private async Task<Stored> ReadUncachedAsync(string type, string id, bool withHistory, CancellationToken cancellationToken)
    {
        var (status, body) = await GetAsync($"{settings.FhirServer.Base}/{type}/{id}", cancellationToken);
        if (status == HttpStatusCode.OK)
        {
            var parsed = filter.Parse(body, judgeEntries: false);
            return parsed is not null && parsed.RootFacts.ResourceType == type
                ? new Stored(parsed, null)
                : throw new UpstreamException("The stored resource the FHIR server returned is not usable FHIR JSON.");
        }

        if (status is not (HttpStatusCode.NotFound or HttpStatusCode.Gone))
        {
            throw new UpstreamException($"The FHIR server answered {(int)status} when Hearth read the stored resource.");
        }

        return withHistory ? new Stored(null, await LastVersionAsync(type, id, cancellationToken)) : Stored.None;
    }

    /// <summary>The newest version in the instance history that holds the resource (a deleted one's last state); null when it never existed.</summary>
    private async Task<ParsedResponse?> LastVersionAsync(string type, string id, CancellationToken cancellationToken)
    {
        var (status, body) = await GetAsync($"{settings.FhirServer.Base}/{type}/{id}/_history", cancellationToken);
        if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }

        if (status != HttpStatusCode.OK || FhirJson.TryParse(body) is not JsonObject history || history["entry"] is not (null or JsonArray))
        {
            throw new UpstreamException("The FHIR server's history of the resource is not usable FHIR JSON.");
        }

        foreach (var entry in history["entry"] as JsonArray ?? [])
        {
            if (entry is JsonObject e && e["resource"] is JsonObject resource
                && FhirElements.TryGetString(resource, "resourceType", out var t) && t == type
                && FhirElements.TryGetString(resource, "id", out var i) && i == id)
            {
                return filter.Read(resource) ?? throw new UpstreamException("The FHIR server's history holds a version Hearth cannot read.");
            }
        }

        return null;
    }

    /// <summary>A GET of the FHIR server (a stored version, a history, a conditional interaction's search); the body is read when the answer is 200.</summary>
    /// <exception cref="UpstreamException">The FHIR server could not be asked.</exception>
    public Task<(HttpStatusCode Status, byte[] Body)> GetAsync(string url, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, url, null, "The stored resource is too large to authorize.", "The FHIR server could not be asked for the stored resource.", cancellationToken);

    /// <summary>A DELETE of Type/id pinned by If-Match to the version that was judged (a conditional delete of several resources sends one each).</summary>
    /// <exception cref="UpstreamException">The FHIR server could not be asked.</exception>
    public async Task<HttpStatusCode> DeleteAsync(string type, string id, string? version, CancellationToken cancellationToken)
        => (await SendAsync(HttpMethod.Delete, $"{settings.FhirServer.Base}/{type}/{id}", version, "The FHIR server's answer to a delete is too large.",
            "The FHIR server could not be asked to delete the resource.", cancellationToken)).Status;

    private async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpMethod method, string url, string? ifMatch, string tooLarge, string unreachable, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", $"W/\"{ifMatch}\"");
        }

        try
        {
            var answer = await OutboundHttp.SendAsync(httpClients.CreateClient(HttpClientName), request, settings.FhirServer.Timeout, UpstreamAnswer.MaxBytes,
                status => status == HttpStatusCode.OK, cancellationToken);
            return (answer.Status, answer.Body is { } body ? FhirJson.Sanitize(body) : []);
        }
        catch (OutboundException e)
        {
            throw new UpstreamException(e.Failure == OutboundFailure.TooLarge ? tooLarge : unreachable);
        }
    }
}
