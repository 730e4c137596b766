using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Writes;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Create, update, patch and delete, decided before anything is forwarded by the rules of
/// <see cref="WriteRules"/>: the body (JSON, or XML converted to the JSON that is forwarded) and
/// what is stored under the id are judged; a patch is checked alone, run only once the token may
/// read and change the stored version, and forwarded as an update to the result that was judged.
/// The write goes out pinned by <c>If-Match</c> to the version that was checked. The answer shows
/// the resource only to a token that may read it.
/// </summary>
internal sealed class WriteAuthorizer(HearthSettings settings, ResponseFilter filter, Adjudicator adjudicator, ReferenceResolver resolver, StoredVersions storedVersions)
    : IInteractionAuthorizer
{
    private static readonly string[] ResourceMediaTypes = ["application/fhir+json", "application/json", "application/json+fhir"];

    public bool Handles(FhirRequest request) => request.IsWrite && !request.Conditional;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var request = state.Request;
        if (ConditionalAuthorizer.ReadCriteria(request, http.Request).Refusal is { } notPlain)
        {
            return notPlain;
        }

        var (body, patch, refusal) = await ReadBodyAsync(http, request);
        if (refusal is not null)
        {
            return refusal;
        }

        var decision = await DecideAsync(request, body, patch, IfMatch(http), state.Permissions, http.RequestAborted);
        return decision.Refusal ?? Forward(state, http, request, decision);
    }

    /// <summary>The client's If-Match values.</summary>
    public static List<string> IfMatch(HttpContext http) => http.Request.Headers.IfMatch.Select(v => v ?? "").ToList();

    /// <summary>
    /// Forwards a permitted write as <paramref name="target"/> (the request itself, or the plain
    /// interaction a conditional one became: its method and URL replace the client's), pinned to
    /// the checked version; a patch as the update Hearth judged; a create with
    /// <paramref name="ifNoneExist"/> as its only condition, when it has one.
    /// </summary>
    public Verdict Forward(RequestState state, HttpContext http, FhirRequest target, WriteDecision decision, string? ifNoneExist = null)
    {
        if (decision.Replacement is { } replacement)
        {
            // A patch goes out as the update Hearth judged (see FhirPathPatch).
            RequestBodies.Replace(http, Encoding.UTF8.GetBytes(replacement.ToJsonString(FhirJson.Output)), "application/fhir+json; charset=utf-8");
        }

        var url = state.Request.Conditional ? settings.FhirServer.Base + "/" + target.ResourceType + (target.Id is null ? "" : "/" + target.Id) : null;
        return Verdict.Forward(new WriteForwarding(this, state, new WriteTarget(target, decision.ExpectedVersion, decision.Replacement is not null, url, ifNoneExist)
        {
            ConsentPatients = decision.ConsentPatients,
        }));
    }

    /// <summary>
    /// The decision itself, for a request alone or a batch entry: <paramref name="body"/> is the
    /// resource (create/update) or the patch (of kind <paramref name="patch"/>) as JSON bytes;
    /// <paramref name="ifMatch"/> the client's If-Match values; <paramref name="local"/> in a
    /// transaction what the entries' fullUrls stand for; <paramref name="cache"/> the stored
    /// versions this request already read.
    /// </summary>
    public async Task<WriteDecision> DecideAsync(FhirRequest request, byte[] body, PatchKind patch, IReadOnlyList<string> ifMatch, PermissionSet permissions,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, LocalTarget>? local = null, StoredVersions.Cache? cache = null)
    {
        var (bodyFacts, parsedPatch, problem) = ReadRequestParts(request, body, patch, local);
        if (problem is not null)
        {
            return WriteDecision.Refused(problem);
        }

        var stored = request.Interaction == FhirInteraction.Create
            ? StoredVersions.Stored.None
            : await storedVersions.ReadAsync(request.ResourceType!, request.Id!, withHistory: request.Interaction == FhirInteraction.Update, cache, cancellationToken);
        var (checks, missing) = WriteRules.StoredChecks(request, bodyFacts, stored.Current?.RootFacts, stored.Previous?.RootFacts);
        if ((missing ?? await RefusalAsync(checks, permissions, cancellationToken)) is { } refused)
        {
            return WriteDecision.Refused(refused);
        }

        JsonObject? replacement = null;
        if (parsedPatch is not null)
        {
            // Only now, for a token that may read and change the stored version, does the patch run.
            (replacement, refused) = await ApplyPatchAsync(request, parsedPatch, stored.Current!.Root, permissions, local, cancellationToken);
            if (refused is not null)
            {
                return WriteDecision.Refused(refused);
            }
        }

        var pinned = Pin(stored.Current, ifMatch, replacement);
        return request.ResourceType == "Consent" && pinned.Refusal is null
            ? pinned with { ConsentPatients = ConsentPatients(bodyFacts, stored, replacement is null ? null : filter.Read(replacement, local)?.RootFacts) }
            : pinned;
    }

    /// <summary>The patients a Consent write touches: of the body, of the stored versions, of a patch's result.</summary>
    private static List<string> ConsentPatients(ResourceFacts? body, StoredVersions.Stored stored, ResourceFacts? result)
        => new[] { body, stored.Current?.RootFacts, stored.Previous?.RootFacts, result }.OfType<ResourceFacts>()
            .SelectMany(f => f.PatientReferences).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>What the request itself says, checked before any stored data is read: a create's or update's resource, or a patch.</summary>
    private (ResourceFacts? Body, object? Patch, Refusal? Refusal) ReadRequestParts(FhirRequest request, byte[] body, PatchKind patch, IReadOnlyDictionary<string, LocalTarget>? local)
    {
        if (!FhirJson.IsValidUnicode(body))
        {
            return (null, null, Refusal.Problem(400, "structure", "The body is not valid Unicode (invalid UTF-8, or an escaped half of a surrogate pair)."));
        }

        if (request.Interaction is FhirInteraction.Create or FhirInteraction.Update)
        {
            if (filter.Parse(body, judgeEntries: false, local) is not { } parsed)
            {
                return (null, null, Refusal.Problem(400, "structure", "The request body is not a FHIR JSON resource."));
            }

            FhirElements.TryGetString(parsed.Root, "id", out var bodyId);
            return (parsed.RootFacts, null, WriteRules.CheckBody(request, parsed.RootFacts, bodyId.Length > 0 ? bodyId : null));
        }

        if (request.Interaction != FhirInteraction.Patch)
        {
            return (null, null, null);
        }

        object? parsedPatch = patch == PatchKind.FhirPath ? FhirPathPatch.Parse(body, out var error) : JsonPatch.Parse(body.AsSpan(), out error);
        return parsedPatch is null
            ? (null, null, Refusal.Problem(422, "processing", error ?? "The patch cannot be read."))
            : (null, parsedPatch, null);
    }

    private async Task<(JsonObject? Result, Refusal? Refusal)> ApplyPatchAsync(FhirRequest request, object patch, JsonObject stored, PermissionSet permissions,
        IReadOnlyDictionary<string, LocalTarget>? local, CancellationToken cancellationToken)
    {
        var result = patch is FhirPathPatch fhirPath
            ? fhirPath.Apply(stored, settings.Gateway.MaxRequestBytes, out var error)
            : ((JsonPatch)patch).Apply(stored, settings.Gateway.MaxRequestBytes, out error);
        if (result is null)
        {
            return (null, Refusal.Problem(422, "processing", error ?? "The patch cannot be applied."));
        }

        FhirElements.TryGetString(result, "id", out var resultId);
        var (checks, refusal) = WriteRules.PatchResultChecks(request, filter.Read(result, local)?.RootFacts, resultId);
        return (result, refusal ?? await RefusalAsync(checks, permissions, cancellationToken));
    }

    /// <summary>The write goes out pinned to the version that was checked; a client If-Match naming another is 412.</summary>
    private static WriteDecision Pin(ParsedResponse? current, IReadOnlyList<string> ifMatch, JsonObject? replacement)
    {
        if (current is not null && current.Root["meta"] is JsonObject meta && FhirElements.TryGetString(meta, "versionId", out var version))
        {
            return WriteRules.CheckIfMatch(ifMatch, version) is { } stale ? WriteDecision.Refused(stale) : new WriteDecision(null, version, replacement);
        }

        // Without a version to pin it to, a patch's update could overwrite a change made in between.
        return replacement is not null
            ? WriteDecision.Refused(Refusal.Problem(409, "conflict", "The stored resource has no version; Hearth cannot apply a patch to it safely."))
            : new WriteDecision(null, null, null);
    }

    /// <summary>Resolves what the checks refer to and judges them; the first refusal (with what it needed), or null.</summary>
    private async Task<Refusal?> RefusalAsync(IReadOnlyList<(ResourceFacts Facts, FhirAction Action)> checks, PermissionSet permissions, CancellationToken cancellationToken)
    {
        var resolved = await resolver.ResolveAsync(checks.Select(c => c.Facts), cancellationToken);
        var judgement = adjudicator.JudgeAll(checks, resolved, permissions);
        return judgement.IsPermitted ? null : Refusal.NotPermitted(judgement.Needed is { } needed && PermissionRegistration.CanName(needed) ? [needed] : []);
    }

    /// <summary>The body of a write, as the JSON that is judged and forwarded, with its patch kind; or why it is refused.</summary>
    public async Task<(byte[] Body, PatchKind Patch, Refusal? Refusal)> ReadBodyAsync(HttpContext http, FhirRequest request)
    {
        if (request.Interaction == FhirInteraction.Delete)
        {
            return http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0
                ? ([], PatchKind.None, Refusal.Problem(400, "invalid", "A DELETE must not have a body."))
                : ([], PatchKind.None, null);
        }

        var mediaType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType) ? contentType.MediaType : null;
        var isXml = mediaType is not null && FormatNegotiation.Classify(mediaType) == FhirFormat.Xml;
        var patch = request.Interaction != FhirInteraction.Patch ? PatchKind.None
            : mediaType == "application/json-patch+json" ? PatchKind.Json
            : ResourceMediaTypes.Contains(mediaType) || isXml ? PatchKind.FhirPath
            : PatchKind.Unsupported;
        if (patch == PatchKind.Unsupported)
        {
            return ([], patch, Refusal.Problem(415, "not-supported",
                "Send a JSON Patch (application/json-patch+json) or a FHIRPath Patch (a Parameters resource as application/fhir+json or application/fhir+xml)."));
        }

        if (patch == PatchKind.None && !ResourceMediaTypes.Contains(mediaType) && !isXml)
        {
            return ([], patch, Refusal.Problem(415, "not-supported", "Send the resource as FHIR JSON (application/fhir+json) or FHIR XML (application/fhir+xml)."));
        }

        if (await RequestBodies.BufferAsync(http, settings.Gateway.MaxRequestBytes) is not { } body)
        {
            return ([], patch, RequestBodies.TooLarge(settings.Gateway));
        }

        if (!isXml)
        {
            return (body, patch, null);
        }

        // Judged and forwarded as JSON: what the FHIR server stores is exactly what was checked.
        var json = RequestBodies.XmlToJson(body, out var notXml);
        if (json is not null)
        {
            RequestBodies.Replace(http, json, "application/fhir+json; charset=utf-8");
        }

        return (json ?? [], patch, notXml);
    }

    /// <summary>
    /// A write the FHIR server accepted. What is cached of the written resource (a Patient's
    /// identifiers, a security context's facts) is forgotten cluster-wide. The answer's resource (if
    /// any) is shown only if the token may read it; otherwise the client learns that the write
    /// succeeded, and where (Location), not what.
    /// </summary>
    internal async Task<Reply> JudgeAsync(WriteTarget written, RequestState state, UpstreamAnswer upstream)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        if (written.Target is { ResourceType: { } type, Id: { } id })
        {
            await resolver.InvalidateAsync(type + "/" + id);
        }

        foreach (var patient in written.ConsentPatients ?? [])
        {
            await resolver.InvalidateConsentsAsync(patient); // the next request on any gateway reads the patient's Consents again
        }

        if (upstream.Body.Length == 0)
        {
            return new Answer(upstream.Status, null, ReadOnlyMemory<byte>.Empty) { IsFhirJson = false, KeepValidators = true };
        }

        var parsed = (upstream.IsJson ? filter.Parse(upstream.Body, judgeEntries: false) : null)
            ?? throw new UpstreamException("The FHIR server accepted the write but answered with something that is not FHIR JSON.");
        if (parsed.RootFacts.ResourceType != "OperationOutcome")
        {
            var resolved = await resolver.ResolveAsync(parsed.Judged);
            if (filter.Apply(parsed, resolved, state.Permissions, FhirAction.Read).Outcome != FilterOutcome.Permitted)
            {
                return Answer.Fhir(upstream.Status, OperationOutcomes.CreateString("informational",
                    "The write succeeded; this token may not read the resource, so it is not shown.", "information")) with { KeepValidators = true };
            }
        }

        return new Answer(upstream.Status, OperationOutcomes.ContentType, upstream.Body) { KeepValidators = true };
    }
}
