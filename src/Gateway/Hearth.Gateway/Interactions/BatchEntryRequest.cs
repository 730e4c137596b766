using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Interactions;

/// <summary>One entry's request line (method and url) of a batch or transaction, read and classified like a request of its own.</summary>
internal sealed record BatchEntryRequest(JsonObject Request, FhirRequest Classified, Dictionary<string, StringValues> Query)
{
    /// <summary>
    /// Reads <c>entry.request</c>: the url relative to this server (the gateway's public base or
    /// the FHIR server's base is taken off), classified. Null with the refusal when it cannot be.
    /// </summary>
    public static BatchEntryRequest? Read(JsonObject? entry, string publicBase, HearthSettings settings, out Refusal? refusal)
    {
        refusal = null;
        if (entry?["request"] is not JsonObject request
            || !FhirElements.TryGetString(request, "method", out var method) || !FhirElements.TryGetString(request, "url", out var url))
        {
            refusal = Refusal.Problem(400, "required", "Each entry needs request.method and request.url.");
            return null;
        }

        foreach (var prefix in new[] { publicBase, settings.FhirServer.Base })
        {
            if (prefix.Length > 0 && url.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                url = url[(prefix.Length + 1)..];
            }
        }

        if (url.Contains("://", StringComparison.Ordinal))
        {
            refusal = Refusal.Problem(400, "invalid", "An entry's request.url must be relative to this server.");
            return null;
        }

        var question = url.IndexOf('?');
        var path = "/" + (question >= 0 ? url[..question] : url).TrimStart('/');
        var query = question >= 0 ? Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url[question..]) : [];
        var classification = RequestClassifier.Classify(method, path, settings.Rules.AllowedOperations);
        if (classification.Request is not { } classified)
        {
            refusal = Refusal.Problem(classification.Status, classification.IssueCode, classification.Diagnostics);
            return null;
        }

        return new BatchEntryRequest(request, classified, query);
    }

    /// <summary>The query as name → values, for the pure rules.</summary>
    public IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> Parameters
        => Query.Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)p.Value.Select(v => v ?? "").ToList()));
}
