using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// A batch or transaction (POST of a Bundle to the base): every entry is decided as if it were
/// sent alone, by the same rules (writes before forwarding, with If-Match on the stored version
/// checked; reads by what comes back). A transaction with any refused entry is refused whole and
/// nothing is forwarded; in a batch, refused entries are answered by error entries and the rest
/// proceed.
/// <para>
/// The work one request can cause is bounded: at most HEARTH_MAX_BATCH_ENTRIES entries; every
/// entry is first checked without any I/O (its shape, and whether any grant could allow its
/// write at all), and a transaction stops there at the first refusal; then the writes' stored
/// versions are read, each Type/id once, at most <see cref="MaxParallelDecisions"/> at a time,
/// stopping at the first refusal of a transaction.
/// </para>
/// In a transaction, a reference to another entry's fullUrl is resolved as the FHIR server
/// resolves it (see <see cref="LocalTarget"/>).
/// </summary>
internal sealed class BatchAuthorizer(HearthSettings settings, WriteAuthorizer writes, ResponseFilter filter, ReferenceResolver resolver)
{
    public const int MaxParallelDecisions = 8;

    /// <summary>
    /// Decides every entry and replaces the request body with the entries that may go. Returns the
    /// plan, or a refusal of the whole request; a plan with nothing to forward is answered by
    /// <see cref="AnswerWithoutForwardingAsync"/>.
    /// </summary>
    public async Task<(BatchPlan? Plan, WriteRefusal? Refusal)> AuthorizeAsync(HttpContext context, HearthRequestFeature feature, PermissionSet permissions)
    {
        var http = context.Request;
        var mediaType = System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(http.ContentType, out var type) ? type.MediaType : null;
        var format = mediaType is null ? null : FormatNegotiation.Classify(mediaType);
        if (format is null)
        {
            return (null, new WriteRefusal(415, "not-supported", "Send the Bundle as FHIR JSON or FHIR XML."));
        }

        if (await RequestBodies.BufferAsync(context, settings.MaxRequestBytes) is not { } body)
        {
            return (null, RequestBodies.TooLarge(settings));
        }

        if (format == FhirFormat.Xml)
        {
            if (RequestBodies.XmlToJson(body, out var notXml) is not { } json)
            {
                return (null, notXml);
            }

            body = json;
        }

        if (!FhirJson.IsValidUnicode(body))
        {
            return (null, new WriteRefusal(400, "structure", "The body is not valid Unicode (invalid UTF-8, or an escaped half of a surrogate pair)."));
        }

        var bundle = FhirJson.TryParse(body) as JsonObject;
        if (bundle is null || !ResourceInspector.TryGetString(bundle, "resourceType", out var resourceType) || resourceType != "Bundle"
            || !ResourceInspector.TryGetString(bundle, "type", out var bundleType) || bundleType is not ("batch" or "transaction")
            || bundle["entry"] is not (null or JsonArray))
        {
            return (null, new WriteRefusal(400, "invalid", "POST to the base takes a Bundle of type batch or transaction."));
        }

        var entries = bundle["entry"] as JsonArray ?? [];
        if (entries.Count > settings.MaxBatchEntries)
        {
            return (null, new WriteRefusal(413, "too-costly", $"A batch or transaction may have at most {settings.MaxBatchEntries} entries (HEARTH_MAX_BATCH_ENTRIES)."));
        }

        var plan = new BatchPlan(bundleType == "transaction", entries.Count);
        var prepared = new EntryPlan?[entries.Count];
        var refusals = new WriteRefusal?[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            (prepared[i], refusals[i]) = Prepare(entries[i] as JsonObject, feature, permissions);
            if (plan.Transaction && refusals[i] is not null)
            {
                // Nothing is read for a transaction that is refused anyway.
                return (null, TransactionRefusal(refusals));
            }
        }

        var local = plan.Transaction ? LocalTargets(entries, prepared, feature, refusals) : null;
        if (plan.Transaction && refusals.Any(r => r is not null))
        {
            return (null, TransactionRefusal(refusals));
        }

        var decisions = await DecideWritesAsync(prepared, refusals, permissions, local, plan.Transaction, context.RequestAborted);
        if (plan.Transaction && refusals.Any(r => r is not null))
        {
            return (null, TransactionRefusal(refusals));
        }

        var forwarded = new JsonArray();
        for (var i = 0; i < entries.Count; i++)
        {
            if (refusals[i] is { } refusal)
            {
                plan.Errors[i] = ErrorEntry(refusal);
                continue;
            }

            var entry = prepared[i]!;
            if (decisions[i] is { } decision)
            {
                if (decision.ExpectedVersion is { } version)
                {
                    entry.Request["ifMatch"] = $"W/\"{version}\"";
                }

                if (decision.Replacement is { } replacement)
                {
                    // A patch entry is forwarded as the update Hearth judged (see FhirPathPatch).
                    entry.Request["method"] = "PUT";
                    entry.Entry["resource"] = replacement;
                }
            }

            plan.Requests[i] = entry.Classified;
            plan.Forwarded.Add(i);
            forwarded.Add(entry.Entry.DeepClone());
        }

        bundle["entry"] = forwarded;
        RequestBodies.Replace(context, Encoding.UTF8.GetBytes(bundle.ToJsonString()), "application/fhir+json; charset=utf-8");
        return (plan, null);
    }

    /// <summary>A batch none of whose entries may go: the batch-response is made of error entries alone.</summary>
    public static JsonObject ResponseWithoutForwarding(BatchPlan plan)
        => new()
        {
            ["resourceType"] = "Bundle",
            ["type"] = plan.Transaction ? "transaction-response" : "batch-response",
            ["entry"] = new JsonArray(Enumerable.Range(0, plan.Count).Select(i => (JsonNode)plan.Errors[i].DeepClone()).ToArray()),
        };

    public static Task AnswerWithoutForwardingAsync(HttpContext context, BatchPlan plan)
    {
        var bytes = Encoding.UTF8.GetBytes(ResponseWithoutForwarding(plan).ToJsonString());
        context.Response.StatusCode = 200;
        context.Response.ContentType = OperationOutcomes.ContentType;
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// Judges the FHIR server's batch-response / transaction-response: each entry by what its
    /// request was (a read's resource or searchset is filtered, a write's resource shown only if
    /// readable), and puts the error entries back at their places. Null when the answer cannot be
    /// matched to what was forwarded.
    /// </summary>
    public async Task<JsonObject?> JudgeResponseAsync(byte[] body, BatchPlan plan, PermissionSet permissions)
    {
        var root = FhirJson.TryParse(body) as JsonObject;
        if (root is null || !ResourceInspector.TryGetString(root, "type", out var type) || type is not ("batch-response" or "transaction-response")
            || (root["entry"] as JsonArray ?? []).Count != plan.Forwarded.Count)
        {
            return null;
        }

        var answers = (root["entry"] as JsonArray ?? []).ToList();
        var parsed = new ParsedResponse?[answers.Count];
        for (var j = 0; j < answers.Count; j++)
        {
            var request = plan.Requests[plan.Forwarded[j]];
            if (answers[j] is JsonObject { } answer && answer["resource"] is JsonObject resource)
            {
                parsed[j] = filter.Read(resource, judgeEntries: !request.IsWrite && !request.ReturnsSingleResource);
            }
        }

        // Every entry's patients at once (bounded), then each entry judged.
        var resolved = await resolver.ResolveAsync(parsed.OfType<ParsedResponse>().SelectMany(p => p.Judged));
        var results = new JsonNode?[plan.Count];
        for (var j = 0; j < answers.Count; j++)
        {
            var index = plan.Forwarded[j];
            results[index] = await JudgeEntryAsync(answers[j] as JsonObject, parsed[j], plan.Requests[index], permissions, resolved);
        }

        foreach (var (index, error) in plan.Errors)
        {
            results[index] = error;
        }

        root["entry"] = new JsonArray(results.Select(r => r?.DeepClone()).ToArray());
        root.Remove("total");
        return root;
    }

    private async Task<JsonNode> JudgeEntryAsync(JsonObject? answer, ParsedResponse? parsed, FhirRequest request, PermissionSet permissions, ResolvedReferences resolved)
    {
        if (answer is null)
        {
            return ErrorEntry(new WriteRefusal(502, "exception", "The FHIR server's answer to this entry is unusable."));
        }

        var succeeded = answer["response"] is JsonObject response && ResourceInspector.TryGetString(response, "status", out var status) && status.StartsWith('2');
        if (request.IsWrite && succeeded && request is { ResourceType: { } writtenType, Id: { } writtenId })
        {
            await resolver.InvalidateAsync(writtenType + "/" + writtenId);
        }

        if (answer["resource"] is not JsonObject)
        {
            return answer;
        }

        if (parsed is null)
        {
            return ErrorEntry(new WriteRefusal(502, "exception", "The FHIR server's answer to this entry is not FHIR JSON."));
        }

        if (parsed.RootFacts.ResourceType == "OperationOutcome")
        {
            return answer;
        }

        var result = filter.Apply(parsed, resolved, permissions, "read");
        if (result.Outcome == FilterOutcome.Denied || (result.Outcome == FilterOutcome.Emptied && settings.SearchAllRemoved == SearchAllRemoved.Forbidden))
        {
            if (request.IsWrite)
            {
                answer.Remove("resource"); // written, but not readable by this token: status and location only
                return answer;
            }

            return ErrorEntry(WriteRefusal.NotPermitted);
        }

        if (result.Body is not null)
        {
            answer["resource"] = JsonNode.Parse(result.Body);
        }

        return answer;
    }

    /// <summary>One entry as read from the request, before any I/O.</summary>
    private sealed record EntryPlan(JsonObject Entry, JsonObject Request, FhirRequest Classified, byte[] Body, PatchKind Patch, string[] IfMatch);

    /// <summary>Reads and checks one entry without any I/O: its request, and for a write whether any grant could allow it.</summary>
    private (EntryPlan? Plan, WriteRefusal? Refusal) Prepare(JsonObject? entry, HearthRequestFeature feature, PermissionSet permissions)
    {
        if (BatchEntryRequest.Read(entry, feature.PublicBase, settings, out var unreadable) is not { } line)
        {
            return (null, unreadable);
        }

        var (request, classified, query) = line;
        if (classified.Interaction == FhirInteraction.Batch || classified.FormSearch)
        {
            return (null, new WriteRefusal(400, "not-supported", "Batches and POST searches inside a batch are not supported."));
        }

        foreach (var name in new[] { "_elements", "_method", "access_token", "_format" })
        {
            if (query.ContainsKey(name))
            {
                return (null, new WriteRefusal(400, "not-supported", $"The parameter {name} is not supported inside a batch."));
            }
        }

        if (query.TryGetValue("_summary", out var summary) && summary.Any(v => v != "false"))
        {
            return (null, new WriteRefusal(400, "not-supported", "The parameter _summary is not supported inside a batch."));
        }

        if (SearchLimits.Check(line.Parameters) is { } tooCostly)
        {
            return (null, new WriteRefusal(400, "too-costly", tooCostly));
        }

        if (!classified.IsWrite)
        {
            if (SearchCriteria.Unreadable(classified.ResourceType, line.Parameters, permissions, settings) is { } criterion)
            {
                return (null, new WriteRefusal(403, "forbidden", HearthResponses.SearchCriterionDiagnostics(criterion.Parameter, criterion.Types)));
            }

            return (new EntryPlan(entry!, request, classified, [], PatchKind.None, []), null); // judged by what comes back
        }

        if (query.Count > 0 || request.ContainsKey("ifNoneExist") || request.ContainsKey("ifNoneMatch") || request.ContainsKey("ifModifiedSince"))
        {
            return (null, new WriteRefusal(400, "not-supported", "Conditional writes are not supported by Hearth yet."));
        }

        if (!writes.CouldEverPermit(classified, permissions))
        {
            return (null, WriteRefusal.NotPermittedFor([]));
        }

        var (body, patch, bodyRefusal) = Body(entry!, classified);
        if (bodyRefusal is not null)
        {
            return (null, bodyRefusal);
        }

        var ifMatch = ResourceInspector.TryGetString(request, "ifMatch", out var match) ? new[] { match } : [];
        return (new EntryPlan(entry!, request, classified, body, patch, ifMatch), null);
    }

    /// <summary>A write entry's body as JSON bytes: its resource, or its patch (FHIR carries a FHIRPath Patch as Parameters, a JSON Patch as a Binary).</summary>
    private static (byte[] Body, PatchKind Patch, WriteRefusal? Refusal) Body(JsonObject entry, FhirRequest classified)
    {
        switch (classified.Interaction)
        {
            case FhirInteraction.Create or FhirInteraction.Update:
                return entry["resource"] is JsonObject resource
                    ? (Encoding.UTF8.GetBytes(resource.ToJsonString()), PatchKind.None, null)
                    : ([], PatchKind.None, new WriteRefusal(400, "required", "A create or update entry needs a resource."));
            case FhirInteraction.Patch:
                if (entry["resource"] is JsonObject parameters && ResourceInspector.TryGetString(parameters, "resourceType", out var patchType) && patchType == "Parameters")
                {
                    return (Encoding.UTF8.GetBytes(parameters.ToJsonString()), PatchKind.FhirPath, null);
                }

                if (entry["resource"] is not JsonObject binary || !ResourceInspector.TryGetString(binary, "resourceType", out var binaryType) || binaryType != "Binary"
                    || !ResourceInspector.TryGetString(binary, "contentType", out var contentType) || contentType != "application/json-patch+json"
                    || !ResourceInspector.TryGetString(binary, "data", out var data))
                {
                    return ([], PatchKind.None, new WriteRefusal(415, "not-supported", "A patch entry must carry a FHIRPath Patch (Parameters) or a JSON Patch as a Binary (application/json-patch+json)."));
                }

                try
                {
                    return (Convert.FromBase64String(data), PatchKind.Json, null);
                }
                catch (FormatException)
                {
                    return ([], PatchKind.None, new WriteRefusal(400, "structure", "The patch entry's Binary data is not base64."));
                }

            default:
                return ([], PatchKind.None, null);
        }
    }

    /// <summary>
    /// What each fullUrl of a transaction stands for, the way the FHIR server resolves it: a
    /// create's is the resource it creates, an update's, patch's or delete's is the Type/id it
    /// writes; any other entry's, or one several entries share, cannot be resolved. A create
    /// whose fullUrl names an address on this server is refused (a server could resolve plain
    /// references to that address to the new resource, where Hearth sees the existing one).
    /// </summary>
    private Dictionary<string, LocalTarget> LocalTargets(JsonArray entries, EntryPlan?[] prepared, HearthRequestFeature feature, WriteRefusal?[] refusals)
    {
        var targets = new Dictionary<string, LocalTarget>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            if (prepared[i] is not { } entry || !ResourceInspector.TryGetString(entry.Entry, "fullUrl", out var fullUrl) || fullUrl.Length == 0)
            {
                continue;
            }

            var classified = entry.Classified;
            var target = classified.Interaction switch
            {
                FhirInteraction.Create => entry.Entry["resource"] is JsonObject created ? LocalTarget.Created(created) : LocalTarget.Ambiguous,
                FhirInteraction.Update or FhirInteraction.Patch or FhirInteraction.Delete => new LocalTarget(null, null, classified.ResourceType + "/" + classified.Id),
                _ => LocalTarget.Ambiguous,
            };
            if (classified.Interaction == FhirInteraction.Create && NamesAnAddressHere(fullUrl, feature))
            {
                refusals[i] = new WriteRefusal(400, "invalid", "A created resource's fullUrl must not name an address on this server (use urn:uuid:).");
            }

            targets[fullUrl] = targets.ContainsKey(fullUrl) ? LocalTarget.Ambiguous : target;
        }

        return targets;
    }

    private bool NamesAnAddressHere(string fullUrl, HearthRequestFeature feature)
        => PatientReference.TryRelative(fullUrl, settings.FhirServerBase, out _, out _)
        || (feature.PublicBase.Length > 0 && fullUrl.StartsWith(feature.PublicBase + "/", StringComparison.Ordinal));

    /// <summary>
    /// Decides the write entries: their stored versions are read (each Type/id once, at most
    /// <see cref="MaxParallelDecisions"/> at a time) and judged. In a transaction, the first refusal stops the rest.
    /// </summary>
    private async Task<WriteDecision?[]> DecideWritesAsync(EntryPlan?[] prepared, WriteRefusal?[] refusals, PermissionSet permissions,
        IReadOnlyDictionary<string, LocalTarget>? local, bool transaction, CancellationToken cancellationToken)
    {
        var decisions = new WriteDecision?[prepared.Length];
        var cache = new StoredVersions.Cache();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writeIndexes = Enumerable.Range(0, prepared.Length).Where(i => prepared[i] is { Classified.IsWrite: true } && refusals[i] is null);
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelDecisions, CancellationToken = stop.Token };
        try
        {
            await Parallel.ForEachAsync(writeIndexes, options, async (i, token) =>
            {
                var entry = prepared[i]!;
                var decision = await writes.DecideAsync(entry.Classified, entry.Body, entry.Patch, entry.IfMatch, permissions, token, local, cache);
                if (decision.Refusal is { } refusal)
                {
                    refusals[i] = refusal;
                    if (transaction)
                    {
                        await stop.CancelAsync();
                    }

                    return;
                }

                decisions[i] = decision;
            });
        }
        catch (OperationCanceledException) when (transaction && stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A transaction entry was refused: the rest are not decided.
        }

        return decisions;
    }

    private static WriteRefusal TransactionRefusal(WriteRefusal?[] refusals)
    {
        var problems = new List<string>();
        var unmet = new List<RequiredPermission>();
        var insufficient = false;
        for (var i = 0; i < refusals.Length; i++)
        {
            if (refusals[i] is not { } refusal)
            {
                continue;
            }

            insufficient |= refusal.Insufficient;
            unmet.AddRange(refusal.Unmet);
            problems.Add($"entry {i}: {(refusal.Insufficient ? "the token does not permit it" : refusal.Diagnostics)}");
        }

        return insufficient
            ? WriteRefusal.NotPermittedFor(unmet)
            : new WriteRefusal(400, "invalid", "The transaction is refused whole, nothing was forwarded: " + string.Join("; ", problems));
    }

    private static JsonObject ErrorEntry(WriteRefusal refusal)
    {
        var status = refusal.Insufficient ? 403 : refusal.Status;
        var text = refusal.Insufficient ? "The access token does not permit this entry." : refusal.Diagnostics;
        return new JsonObject
        {
            ["response"] = new JsonObject
            {
                ["status"] = $"{status} {ReasonPhrases(status)}",
                ["outcome"] = JsonNode.Parse(OperationOutcomes.CreateString(refusal.Insufficient ? "forbidden" : refusal.IssueCode, text)),
            },
        };
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
