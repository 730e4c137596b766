using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Writes;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// One entry of a batch or transaction as read from the request, before any I/O. A conditional
/// write carries its <see cref="Criteria"/> (resolved by <see cref="BatchConditionals"/> into the
/// plain entry it becomes); an operation by POST its <see cref="Parameters"/>.
/// </summary>
internal sealed record BatchEntry(JsonObject Entry, JsonObject Request, FhirRequest Classified, byte[] Body, PatchKind Patch, string[] IfMatch)
{
    public ConditionalCriteria? Criteria { get; init; }

    public JsonObject? Parameters { get; init; }

    /// <summary>A $validate entry's mode from its url (empty: none).</summary>
    public string Mode { get; init; } = "";
}

/// <summary>
/// The entries of a batch or transaction, read and checked without any I/O: each entry's request
/// line like a request of its own (no nested batch, POST search, conditional write or parameter
/// Hearth does not honour inside a batch; bounded searches; criteria only over what the token may
/// read), for a write whether any grant could allow it at all, its body or patch; and in a
/// transaction what each fullUrl stands for.
/// </summary>
internal static class BatchEntries
{
    public static (BatchEntry? Entry, Refusal? Refusal) Prepare(JsonObject? entry, string publicBase, PermissionSet permissions, HearthSettings settings)
    {
        if (BatchEntryRequest.Read(entry, publicBase, settings, out var unreadable) is not { } line)
        {
            return (null, unreadable);
        }

        var (request, classified, query) = line;
        if (Unsupported(line) is { } unsupported)
        {
            return (null, unsupported);
        }

        if (classified.Interaction == FhirInteraction.Operation)
        {
            return Operation(entry!, line, permissions, settings);
        }

        if (!classified.IsWrite)
        {
            return SearchCriteria.Unreadable(classified.ResourceType, line.Parameters, permissions, settings.Rules) is { } criterion
                ? (null, Refusal.Problem(403, "forbidden", Refusal.CriterionDiagnostics(criterion.Parameter, criterion.Types)))
                : (new BatchEntry(entry!, request, classified, [], PatchKind.None, []), null); // judged by what comes back
        }

        var (criteria, conditionRefusal) = Criteria(line);
        if (conditionRefusal is not null || request.ContainsKey("ifNoneMatch") || request.ContainsKey("ifModifiedSince"))
        {
            return (null, conditionRefusal ?? Refusal.Problem(400, "not-supported", "ifNoneMatch and ifModifiedSince do not apply to a write."));
        }

        classified = criteria is null ? classified : classified with { Conditional = true };
        if (criteria is not null && SearchCriteria.Unreadable(classified.ResourceType, criteria.Named, permissions, settings.Rules) is { } reach)
        {
            return (null, Refusal.Problem(403, "forbidden", Refusal.CriterionDiagnostics(reach.Parameter, reach.Types)));
        }

        if (!WriteRules.CouldEverPermit(classified, permissions, settings.Rules.UnprotectedResourceTypes))
        {
            return (null, Refusal.NotPermitted([]));
        }

        var (body, patch, bodyRefusal) = Body(entry!, classified);
        var ifMatch = FhirElements.TryGetString(request, "ifMatch", out var match) ? new[] { match } : [];
        return bodyRefusal is not null ? (null, bodyRefusal) : (new BatchEntry(entry!, request, classified, body, patch, ifMatch) { Criteria = criteria }, null);
    }

    /// <summary>A write entry's criteria: a create's ifNoneExist, or the query of a conditional update, patch or delete; none for a write by id (which takes no query).</summary>
    private static (ConditionalCriteria? Criteria, Refusal? Refusal) Criteria(BatchEntryRequest line)
    {
        var (request, classified, query) = line;
        var hasIfNoneExist = FhirElements.TryGetString(request, "ifNoneExist", out var ifNoneExist);
        if (hasIfNoneExist && classified.Interaction != FhirInteraction.Create)
        {
            return (null, Refusal.Problem(400, "invalid", "ifNoneExist belongs to a create entry (POST [type])."));
        }

        if ((!classified.Conditional || hasIfNoneExist) && query.Count > 0)
        {
            return (null, Refusal.Problem(400, "invalid", "A write entry addressed by id (or a conditional create) takes no search criteria in its url."));
        }

        if (!classified.Conditional && !hasIfNoneExist)
        {
            return (null, null);
        }

        var text = hasIfNoneExist ? ifNoneExist : string.Join('&', query.SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? ""))));
        var criteria = ConditionalCriteria.Parse(classified.ResourceType!, text, out var error);
        return criteria is null ? (null, Refusal.Problem(400, "invalid", error!)) : (criteria, null);
    }

    /// <summary>An operation entry: by POST its resource is its Parameters (what a GET carries in its query), checked as a search's criteria are.</summary>
    private static (BatchEntry? Entry, Refusal? Refusal) Operation(JsonObject entry, BatchEntryRequest line, PermissionSet permissions, HearthSettings settings)
    {
        var classified = line.Classified;
        var body = entry["resource"] as JsonObject;
        var primitives = body is null ? [] : OperationParameters.Primitives(body);
        if (primitives is null && classified.OperationRule!.Kind != OperationKind.Validate)
        {
            return (null, Refusal.Problem(400, "structure", $"The resource of a ${classified.Operation} entry must be a Parameters resource."));
        }

        var parameters = line.Parameters.Concat(primitives ?? []).ToList();
        if (SearchLimits.Check(parameters) is { } tooCostly)
        {
            return (null, Refusal.Problem(400, "too-costly", tooCostly));
        }

        return SearchCriteria.Unreadable(classified.ResourceType, parameters, permissions, settings.Rules) is { } criterion
            ? (null, Refusal.Problem(403, "forbidden", Refusal.CriterionDiagnostics(criterion.Parameter, criterion.Types)))
            : (new BatchEntry(entry, line.Request, classified, [], PatchKind.None, []) { Parameters = body, Mode = line.Query.TryGetValue("mode", out var mode) ? mode.ToString() : "" }, null);
    }

    /// <summary>
    /// What each fullUrl of a transaction stands for, the way the FHIR server resolves it: a
    /// create's is the resource it creates, an update's, patch's or delete's is the Type/id it
    /// writes; any other entry's, or one several entries share, cannot be resolved. A create
    /// whose fullUrl names an address on this server is refused (a server could resolve plain
    /// references to that address to the new resource, where Hearth sees the existing one).
    /// </summary>
    public static Dictionary<string, LocalTarget> LocalTargets(BatchEntry?[] entries, Refusal?[] refusals, string publicBase, string fhirServerBase)
    {
        var targets = new Dictionary<string, LocalTarget>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i] is not { } entry || !FhirElements.TryGetString(entry.Entry, "fullUrl", out var fullUrl) || fullUrl.Length == 0)
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
            if (classified.Interaction == FhirInteraction.Create
                && (PatientReference.TryRelative(fullUrl, fhirServerBase, out _, out _) || (publicBase.Length > 0 && fullUrl.StartsWith(publicBase + "/", StringComparison.Ordinal))))
            {
                refusals[i] = Refusal.Problem(400, "invalid", "A created resource's fullUrl must not name an address on this server (use urn:uuid:).");
            }

            targets[fullUrl] = targets.ContainsKey(fullUrl) ? LocalTarget.Ambiguous : target;
        }

        return targets;
    }

    private static Refusal? Unsupported(BatchEntryRequest line)
    {
        if (line.Classified.Interaction == FhirInteraction.Batch || line.Classified.FormSearch)
        {
            return Refusal.Problem(400, "not-supported", "Batches and POST searches inside a batch are not supported.");
        }

        if (line.Classified is { Interaction: FhirInteraction.BulkExport } or { OperationRule.Kind: OperationKind.GraphQL })
        {
            return Refusal.Problem(400, "not-supported", "$export and $graphql are not supported inside a batch (their answers are not FHIR resources); send them alone.");
        }

        foreach (var name in new[] { "_elements", "_method", "access_token", "_format" })
        {
            if (line.Query.ContainsKey(name))
            {
                return Refusal.Problem(400, "not-supported", $"The parameter {name} is not supported inside a batch.");
            }
        }

        if (line.Query.TryGetValue("_summary", out var summary) && summary.Any(v => v != "false"))
        {
            return Refusal.Problem(400, "not-supported", "The parameter _summary is not supported inside a batch.");
        }

        return SearchLimits.Check(line.Parameters) is { } tooCostly ? Refusal.Problem(400, "too-costly", tooCostly) : null;
    }

    /// <summary>A write entry's body as JSON bytes: its resource, or its patch (FHIR carries a FHIRPath Patch as Parameters, a JSON Patch as a Binary).</summary>
    private static (byte[] Body, PatchKind Patch, Refusal? Refusal) Body(JsonObject entry, FhirRequest classified)
    {
        switch (classified.Interaction)
        {
            case FhirInteraction.Create or FhirInteraction.Update:
                return entry["resource"] is JsonObject resource
                    ? (Encoding.UTF8.GetBytes(resource.ToJsonString(FhirJson.Output)), PatchKind.None, null)
                    : ([], PatchKind.None, Refusal.Problem(400, "required", "A create or update entry needs a resource."));
            case FhirInteraction.Patch when entry["resource"] is JsonObject parameters && FhirElements.IsResource(parameters, out _, out var patchType) && patchType == "Parameters":
                return (Encoding.UTF8.GetBytes(parameters.ToJsonString(FhirJson.Output)), PatchKind.FhirPath, null);
            case FhirInteraction.Patch:
                if (entry["resource"] is not JsonObject binary || !FhirElements.TryGetString(binary, "resourceType", out var binaryType) || binaryType != "Binary"
                    || !FhirElements.TryGetString(binary, "contentType", out var contentType) || contentType != "application/json-patch+json"
                    || !FhirElements.TryGetString(binary, "data", out var data))
                {
                    return ([], PatchKind.None, Refusal.Problem(415, "not-supported", "A patch entry must carry a FHIRPath Patch (Parameters) or a JSON Patch as a Binary (application/json-patch+json)."));
                }

                try
                {
                    return (Convert.FromBase64String(data), PatchKind.Json, null);
                }
                catch (FormatException)
                {
                    return ([], PatchKind.None, Refusal.Problem(400, "structure", "The patch entry's Binary data is not base64."));
                }

            default:
                return ([], PatchKind.None, null);
        }
    }
}
