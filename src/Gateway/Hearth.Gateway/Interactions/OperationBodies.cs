using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Extensions;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The body of an operation invoked by POST, and its answer where it is not judged resource by
/// resource. A body is FHIR JSON or FHIR XML (converted, and forwarded as the JSON that was read),
/// bounded, valid Unicode, one resource; a POST without a body has none.
/// </summary>
internal static class OperationBodies
{
    /// <summary>The body as a resource (null: there is none), or why it is refused.</summary>
    public static async Task<(JsonObject? Body, Refusal? Refusal)> ReadAsync(WriteAuthorizer writes, HttpContext http, FhirRequest request)
    {
        if (http.Request.ContentLength is null or 0 && http.Request.Headers.TransferEncoding.Count == 0)
        {
            return (null, null);
        }

        var (bytes, _, refusal) = await writes.ReadBodyAsync(http, request);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        if (!FhirJson.IsValidUnicode(bytes))
        {
            return (null, Refusal.Problem(400, "structure", "The body is not valid Unicode (invalid UTF-8, or an escaped half of a surrogate pair)."));
        }

        return FhirJson.TryParse(bytes) is JsonObject body && FhirElements.IsResource(body, out _, out _)
            ? (body, null)
            : (null, Refusal.Problem(400, "structure", "The body of an operation must be one FHIR resource (a Parameters resource, or the resource it takes)."));
    }

    /// <summary>
    /// A kick-off by POST (Bulk Data 2.0): its Parameters become the query of the GET kick-off it
    /// describes, which is what is judged and forwarded. <c>patient</c> (a list of patients) and
    /// any parameter Hearth does not know are refused.
    /// </summary>
    public static async Task<Refusal?> ReadExportKickOffAsync(WriteAuthorizer writes, HttpContext http)
    {
        var (body, refusal) = await OperationBodies.ReadAsync(writes, http, new FhirRequest(FhirInteraction.Operation, null, null));
        var parameters = body is null ? [] : OperationParameters.Primitives(body);
        if (refusal is not null || parameters is null || http.Request.QueryString.HasValue)
        {
            return refusal ?? Refusal.Problem(400, "invalid", "A bulk export kick-off by POST takes its parameters in a Parameters body, and none in the URL.");
        }

        if (parameters.FirstOrDefault(p => p.Key is not ("_outputFormat" or "_since" or "_type" or "_typeFilter")) is { Key: { } other })
        {
            return Refusal.Problem(400, "not-supported", $"Hearth does not support the kick-off parameter {(other.Length <= 64 && other.All(c => c is >= ' ' and <= '~') ? other : "(a parameter)")} (export a Group for a list of patients).");
        }

        // Forwarded as the GET kick-off that is judged: its query made from the Parameters, no body.
        http.Request.QueryString = new QueryBuilder(parameters.SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v)))).ToQueryString();
        http.Request.Method = HttpMethods.Get;
        http.Request.Body = Stream.Null;
        http.Request.ContentLength = null;
        http.Request.Headers.ContentType = default;
        return null;
    }

    /// <summary>
    /// The FHIR server's answer as it is, once the request itself was judged (an instance's
    /// <c>$meta</c>, <c>$validate</c>'s OperationOutcome): FHIR JSON, or for <c>$graphql</c>
    /// (<paramref name="fhir"/> false) any JSON.
    /// </summary>
    public static Reply Pass(UpstreamAnswer upstream, bool fhir = true)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        if (!upstream.IsJson || (fhir && !(FhirJson.TryParse(upstream.Body.Span) is JsonObject resource && FhirElements.IsResource(resource, out _, out _))))
        {
            throw new UpstreamException("The FHIR server's answer to the operation is not FHIR JSON.");
        }

        return new Answer(upstream.Status, fhir ? OperationOutcomes.ContentType : "application/json", upstream.Body) { IsFhirJson = fhir };
    }
}
