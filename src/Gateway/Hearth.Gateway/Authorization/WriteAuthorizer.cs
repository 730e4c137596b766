using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Decides a create, update, patch or delete before anything is forwarded:
/// <list type="bullet">
/// <item>create: the resource in the body, action <c>create</c>;</item>
/// <item>update: the body (<c>update</c>, or <c>create</c> when nothing is stored under that id)
/// and the stored version (<c>update</c>): a token cannot move a resource out of, or into, a
/// patient it cannot touch;</item>
/// <item>patch (JSON Patch or FHIRPath Patch): the stored version and the result of applying the
/// patch to it, both <c>update</c>; the patch is forwarded as an update to that result, so the
/// FHIR server stores exactly what was judged, however it would have applied the patch;</item>
/// <item>delete: the stored version, action <c>delete</c>.</item>
/// </list>
/// The write is then forwarded with <c>If-Match</c> on the stored version that was checked, so the
/// FHIR server refuses it (412) if the resource changed in between.
/// </summary>
internal sealed class WriteAuthorizer(HearthSettings settings, ResponseFilter filter, PatientResolver resolver, IHttpClientFactory httpClients)
{
    public const string HttpClientName = "hearth-fhir-stored";

    private static readonly string[] ResourceMediaTypes = ["application/fhir+json", "application/json", "application/json+fhir"];
    private readonly ResourceInspector _inspector = new(settings);

    /// <summary>Null when the write may be forwarded (its body is buffered for forwarding); else why not.</summary>
    public async Task<WriteRefusal?> AuthorizeAsync(HttpContext context, HearthRequestFeature feature, PermissionSet permissions)
    {
        var request = feature.Request;
        var http = context.Request;
        if (request.Interaction == FhirInteraction.Create && http.Headers.ContainsKey("If-None-Exist"))
        {
            return new WriteRefusal(400, "not-supported", "Conditional create (If-None-Exist) is not supported by Hearth yet.");
        }

        byte[] body = [];
        var patch = PatchKind.None;
        if (request.Interaction == FhirInteraction.Delete)
        {
            if (http.ContentLength > 0 || http.Headers.TransferEncoding.Count > 0)
            {
                return new WriteRefusal(400, "invalid", "A DELETE must not have a body.");
            }
        }
        else
        {
            var mediaType = MediaTypeHeaderValue.TryParse(http.ContentType, out var contentType) ? contentType.MediaType : null;
            var isXml = mediaType is not null && FormatNegotiation.Classify(mediaType) == FhirFormat.Xml;
            if (request.Interaction == FhirInteraction.Patch)
            {
                // JSON Patch, or FHIRPath Patch: a Parameters resource in FHIR JSON or XML.
                patch = mediaType == "application/json-patch+json" ? PatchKind.Json
                    : ResourceMediaTypes.Contains(mediaType) || isXml ? PatchKind.FhirPath
                    : PatchKind.None;
                if (patch == PatchKind.None)
                {
                    return new WriteRefusal(415, "not-supported",
                        "Send a JSON Patch (application/json-patch+json) or a FHIRPath Patch (a Parameters resource as application/fhir+json or application/fhir+xml).");
                }
            }
            else if (!ResourceMediaTypes.Contains(mediaType) && !isXml)
            {
                return new WriteRefusal(415, "not-supported", "Send the resource as FHIR JSON (application/fhir+json) or FHIR XML (application/fhir+xml).");
            }

            if (await RequestBodies.BufferAsync(context, settings.MaxRequestBytes) is not { } read)
            {
                return new WriteRefusal(413, "too-costly", $"The request body is larger than {settings.MaxRequestBytes} bytes.");
            }

            body = read;
            if (isXml)
            {
                // Judged and forwarded as JSON: what the FHIR server stores is exactly what was checked.
                try
                {
                    body = System.Text.Encoding.UTF8.GetBytes(Formats.FhirFormats.XmlToJson(System.Text.Encoding.UTF8.GetString(read)));
                }
                catch (FormatException e)
                {
                    return new WriteRefusal(400, "structure", e.Message);
                }

                RequestBodies.Replace(context, body, "application/fhir+json; charset=utf-8");
            }
        }

        var decision = await DecideAsync(request, body, patch, http.Headers.IfMatch.Select(v => v ?? "").ToList(), permissions, context.RequestAborted);
        feature.ExpectedVersion = decision.ExpectedVersion;
        if (decision.Replacement is { } replacement)
        {
            // A patch goes out as the update Hearth judged (see FhirPathPatch).
            RequestBodies.Replace(context, System.Text.Encoding.UTF8.GetBytes(replacement.ToJsonString()), "application/fhir+json; charset=utf-8");
            feature.ForwardMethod = HttpMethod.Put;
        }

        return decision.Refusal;
    }

    /// <summary>
    /// The decision itself, for a request alone or a batch entry: <paramref name="body"/> is the
    /// resource (create/update) or the patch (of kind <paramref name="patch"/>) as JSON bytes;
    /// <paramref name="ifMatch"/> the client's If-Match values.
    /// </summary>
    public async Task<WriteDecision> DecideAsync(
        FhirRequest request, byte[] body, PatchKind patch, IReadOnlyList<string> ifMatch, PermissionSet permissions, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, JsonObject>? local = null)
    {
        var stored = request.Interaction == FhirInteraction.Create ? null : await FetchStoredAsync(request.ResourceType!, request.Id!, cancellationToken);
        if (stored is null && request.Interaction is FhirInteraction.Patch or FhirInteraction.Delete)
        {
            // Nothing to check means nothing to forward: the FHIR server never gets a write Hearth did not judge.
            return WriteDecision.Refused(new WriteRefusal(404, "not-found", $"There is no {request.ResourceType} with id {request.Id}."));
        }

        var checks = new List<(ResourceFacts Facts, string Action)>();
        JsonObject? replacement = null;
        switch (request.Interaction)
        {
            case FhirInteraction.Create:
            case FhirInteraction.Update:
                var parsed = filter.Parse(body, judgeEntries: false, local);
                if (parsed is null)
                {
                    return WriteDecision.Refused(new WriteRefusal(400, "structure", "The request body is not a FHIR JSON resource."));
                }

                if (parsed.RootFacts.ResourceType != request.ResourceType)
                {
                    return WriteDecision.Refused(new WriteRefusal(400, "invalid", $"The body is a {parsed.RootFacts.ResourceType}, the URL names {request.ResourceType}."));
                }

                if (request.Interaction == FhirInteraction.Update && !(ResourceInspector.TryGetString(parsed.Root, "id", out var bodyId) && bodyId == request.Id))
                {
                    return WriteDecision.Refused(new WriteRefusal(400, "invalid", "The resource's id must equal the id in the URL."));
                }

                checks.Add((parsed.RootFacts, request.Interaction == FhirInteraction.Create || stored is null ? "create" : "update"));
                break;
            case FhirInteraction.Patch when stored is not null: // always, see above
                var patched = patch == PatchKind.FhirPath ? FhirPathPatch.Apply(stored.Root, body, out var error) : JsonPatch.Apply(stored.Root, body, out error);
                if (patched is not { } result)
                {
                    return WriteDecision.Refused(new WriteRefusal(422, "processing", error ?? "The patch cannot be applied."));
                }

                if (_inspector.Inspect(result, local) is not { } resultFacts || resultFacts.ResourceType != request.ResourceType
                    || !(ResourceInspector.TryGetString(result, "id", out var resultId) && resultId == request.Id))
                {
                    return WriteDecision.Refused(new WriteRefusal(422, "processing", "The patch would change the resource's type or id, or leave no resource."));
                }

                checks.Add((resultFacts, "update"));
                replacement = result; // forwarded as the update that was judged, whichever patch format

                break;
        }

        if (stored is not null)
        {
            checks.Add((stored.RootFacts, request.Action));
        }

        var patients = await resolver.ResolveAsync(checks.SelectMany(c => c.Facts.PatientReferences), local);
        foreach (var (facts, action) in checks)
        {
            PatientIdentifier? Resolve(string reference) => patients.GetValueOrDefault(reference);
            if (filter.Judge(facts, Resolve, permissions, action) != Decision.Permit)
            {
                return WriteDecision.Refused(WriteRefusal.NotPermittedFor(filter.Required(facts, Resolve, action) is { } unmet ? [unmet] : []));
            }
        }

        if (stored is not null && stored.Root["meta"] is JsonObject meta && ResourceInspector.TryGetString(meta, "versionId", out var version))
        {
            if (ifMatch.Count > 0 && !ifMatch.Any(v => EntityTagMatches(v, version)))
            {
                return WriteDecision.Refused(new WriteRefusal(412, "conflict", "The resource has changed since the version named in If-Match."));
            }

            return new WriteDecision(null, version, replacement);
        }

        if (replacement is not null)
        {
            // Without a version to pin it to, the update could overwrite a change made in between.
            return WriteDecision.Refused(new WriteRefusal(409, "conflict", "The stored resource has no version; Hearth cannot apply a patch to it safely."));
        }

        return new WriteDecision(null, null, null);
    }

    /// <summary>The stored resource, null when there is none (404/410); throws <see cref="UpstreamException"/> otherwise.</summary>
    private async Task<ParsedResponse?> FetchStoredAsync(string type, string id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{settings.FhirServerBase}/{type}/{id}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.UpstreamTimeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                return null;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new UpstreamException($"The FHIR server answered {(int)response.StatusCode} when Hearth read the stored resource.");
            }

            var parsed = filter.Parse(await response.Content.ReadAsByteArrayAsync(timeout.Token), judgeEntries: false);
            return parsed is not null && parsed.RootFacts.ResourceType == type
                ? parsed
                : throw new UpstreamException("The stored resource the FHIR server returned is not usable FHIR JSON.");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamException("The FHIR server could not be asked for the stored resource.");
        }
    }

    private static bool EntityTagMatches(string? header, string version)
    {
        var value = (header ?? "").Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Trim('"') == version;
    }
}

/// <summary>What a patch body is.</summary>
internal enum PatchKind
{
    None,
    Json,
    FhirPath,
}

/// <summary>
/// A write's decision: the refusal (null: permitted), the stored version the write must be pinned
/// to, and for a patch the resource to send as an update instead of the patch.
/// </summary>
internal readonly record struct WriteDecision(WriteRefusal? Refusal, string? ExpectedVersion, JsonObject? Replacement)
{
    public static WriteDecision Refused(WriteRefusal refusal) => new(refusal, null, null);
}
