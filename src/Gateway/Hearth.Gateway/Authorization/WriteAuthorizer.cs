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
/// <item>update: the body (<c>update</c>) and the stored version (<c>update</c>): a token cannot
/// move a resource out of, or into, a patient it cannot touch. An update that creates is judged
/// against the last version before a delete when there was one (<c>update</c>), and the body needs
/// <c>create</c>; creating a Patient under a client-chosen id needs <c>create</c> for any patient
/// (resources may already point at that id);</item>
/// <item>patch (JSON Patch or FHIRPath Patch): first the stored version, <c>read</c> and
/// <c>update</c>, before any operation runs (a <c>test</c> or a filter evaluated on data the
/// token may not see would tell it that data); then the result, <c>update</c>. The patch is
/// forwarded as an update to that result, so the FHIR server stores exactly what was judged;</item>
/// <item>delete: the stored version, action <c>delete</c>.</item>
/// </list>
/// The write is forwarded with <c>If-Match</c> on the stored version that was checked, so
/// the FHIR server refuses it (412) if the resource changed in between.
/// </summary>
internal sealed class WriteAuthorizer(HearthSettings settings, ResponseFilter filter, ResponseJudge judge, StoredVersions storedVersions)
{
    private static readonly string[] ResourceMediaTypes = ["application/fhir+json", "application/json", "application/json+fhir"];

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
                return RequestBodies.TooLarge(settings);
            }

            body = read;
            if (isXml)
            {
                // Judged and forwarded as JSON: what the FHIR server stores is exactly what was checked.
                if (RequestBodies.XmlToJson(read, out var notXml) is not { } json)
                {
                    return notXml;
                }

                body = json;
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
    /// <paramref name="ifMatch"/> the client's If-Match values; <paramref name="local"/> in a
    /// transaction what the entries' fullUrls stand for; <paramref name="cache"/> the stored
    /// versions this request already read.
    /// </summary>
    public async Task<WriteDecision> DecideAsync(
        FhirRequest request, byte[] body, PatchKind patch, IReadOnlyList<string> ifMatch, PermissionSet permissions, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, LocalTarget>? local = null, StoredVersions.Cache? cache = null)
    {
        if (!FhirJson.IsValidUnicode(body))
        {
            return WriteDecision.Refused(new WriteRefusal(400, "structure", "The body is not valid Unicode (invalid UTF-8, or an escaped half of a surrogate pair)."));
        }

        // What the request itself says is checked before any stored data is read.
        ResourceFacts? bodyFacts = null;
        object? parsedPatch = null;
        if (request.Interaction is FhirInteraction.Create or FhirInteraction.Update)
        {
            if (ReadBody(request, body, local, out bodyFacts) is { } problem)
            {
                return WriteDecision.Refused(problem);
            }
        }
        else if (request.Interaction == FhirInteraction.Patch)
        {
            parsedPatch = patch == PatchKind.FhirPath ? FhirPathPatch.Parse(body, out var error) : JsonPatch.Parse(body.AsSpan(), out error);
            if (parsedPatch is null)
            {
                return WriteDecision.Refused(new WriteRefusal(422, "processing", error ?? "The patch cannot be read."));
            }
        }

        var stored = request.Interaction == FhirInteraction.Create
            ? StoredVersions.Stored.None
            : await storedVersions.ReadAsync(request.ResourceType!, request.Id!, withHistory: request.Interaction == FhirInteraction.Update, cache, cancellationToken);
        if (stored.Current is null && request.Interaction is FhirInteraction.Patch or FhirInteraction.Delete)
        {
            // Nothing to check means nothing to forward: the FHIR server never gets a write Hearth did not judge.
            return WriteDecision.Refused(new WriteRefusal(404, "not-found", $"There is no {request.ResourceType} with id {request.Id}."));
        }

        var checks = new List<(ResourceFacts Facts, string Action)>();
        switch (request.Interaction)
        {
            case FhirInteraction.Create:
                checks.Add((bodyFacts!, "create"));
                break;
            case FhirInteraction.Update when stored.Current is { } current:
                checks.Add((bodyFacts!, "update"));
                checks.Add((current.RootFacts, "update"));
                break;
            case FhirInteraction.Update:
                checks.Add((bodyFacts!, "create"));
                if (stored.Previous is { } previous)
                {
                    checks.Add((previous.RootFacts, "update")); // a deleted resource is taken back only by who may change it
                }

                if (request.ResourceType == "Patient")
                {
                    // Resources may already point at this id: creating it needs create for any patient.
                    checks.Add((bodyFacts! with { PatientLink = PatientLinkKind.OutsideCompartment, PatientReferences = [], InlinePatients = [], Parts = [] }, "create"));
                }

                break;
            case FhirInteraction.Patch:
                checks.Add((stored.Current!.RootFacts, "read"));
                checks.Add((stored.Current.RootFacts, "update"));
                break;
            case FhirInteraction.Delete:
                checks.Add((stored.Current!.RootFacts, "delete"));
                break;
        }

        if (await RefusalAsync(checks, permissions, cancellationToken) is { } refused)
        {
            return WriteDecision.Refused(refused);
        }

        JsonObject? replacement = null;
        if (parsedPatch is not null)
        {
            // Only now, for a token that may read and change the stored version, does the patch run.
            var root = stored.Current!.Root;
            var result = parsedPatch is FhirPathPatch fhirPath
                ? fhirPath.Apply(root, settings.MaxRequestBytes, out var error)
                : ((JsonPatch)parsedPatch).Apply(root, settings.MaxRequestBytes, out error);
            if (result is null)
            {
                return WriteDecision.Refused(new WriteRefusal(422, "processing", error ?? "The patch cannot be applied."));
            }

            if (filter.Read(result, local) is not { } resultFacts || resultFacts.RootFacts.ResourceType != request.ResourceType
                || !(ResourceInspector.TryGetString(result, "id", out var resultId) && resultId == request.Id))
            {
                return WriteDecision.Refused(new WriteRefusal(422, "processing", "The patch would change the resource's type or id, or leave no resource."));
            }

            if (await RefusalAsync([(resultFacts.RootFacts, "update")], permissions, cancellationToken) is { } resultRefused)
            {
                return WriteDecision.Refused(resultRefused);
            }

            replacement = result; // forwarded as the update that was judged, whichever patch format
        }

        if (stored.Current is { } checkedVersion && checkedVersion.Root["meta"] is JsonObject meta && ResourceInspector.TryGetString(meta, "versionId", out var version))
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

    /// <summary>
    /// Whether any grant of the token could allow this write, whatever the patients and labels
    /// (unprotected types always could). Decided from the request alone: a batch refuses an entry
    /// for which this is false without reading anything.
    /// </summary>
    public bool CouldEverPermit(FhirRequest request, PermissionSet permissions)
    {
        var type = request.ResourceType!;
        if (settings.UnprotectedResourceTypes.Contains(type))
        {
            return true;
        }

        return request.Interaction switch
        {
            FhirInteraction.Create => permissions.CouldGrant(type, "create"),
            FhirInteraction.Update => permissions.CouldGrant(type, "update") || permissions.CouldGrant(type, "create"),
            FhirInteraction.Patch => permissions.CouldGrant(type, "update") && permissions.CouldGrant(type, "read"),
            _ => permissions.CouldGrant(type, request.Action),
        };
    }

    /// <summary>The resource of a create or update, checked against the URL; null when it may be judged (its facts in <paramref name="facts"/>).</summary>
    private WriteRefusal? ReadBody(FhirRequest request, byte[] body, IReadOnlyDictionary<string, LocalTarget>? local, out ResourceFacts? facts)
    {
        facts = null;
        if (filter.Parse(body, judgeEntries: false, local) is not { } parsed)
        {
            return new WriteRefusal(400, "structure", "The request body is not a FHIR JSON resource.");
        }

        var root = parsed.Root;

        if (parsed.RootFacts.ResourceType != request.ResourceType)
        {
            return new WriteRefusal(400, "invalid", $"The body is a {parsed.RootFacts.ResourceType}, the URL names {request.ResourceType}.");
        }

        if (request.Interaction == FhirInteraction.Update && !(ResourceInspector.TryGetString(root, "id", out var bodyId) && bodyId == request.Id))
        {
            return new WriteRefusal(400, "invalid", "The resource's id must equal the id in the URL.");
        }

        facts = parsed.RootFacts;
        return null;
    }

    /// <summary>Resolves what the checks refer to and judges each; the first refusal, or null when all are permitted.</summary>
    private async Task<WriteRefusal?> RefusalAsync(IReadOnlyList<(ResourceFacts Facts, string Action)> checks, PermissionSet permissions, CancellationToken cancellationToken)
    {
        var resolved = await judge.ResolveAsync(checks.Select(c => c.Facts), cancellationToken);
        foreach (var (facts, action) in checks)
        {
            if (filter.Judge(facts, resolved, permissions, action) != Decision.Permit)
            {
                return WriteRefusal.NotPermittedFor(filter.Required(facts, resolved, action) is { } unmet ? [unmet] : []);
            }
        }

        return null;
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
