using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Resolution;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The FHIR server's batch-response or transaction-response, judged entry by entry by what each
/// entry's request was (a read's resource or searchset filtered, a write's resource shown only if
/// readable), with the error entries of the refused entries put back at their places.
/// </summary>
internal sealed class BatchResponses(HearthSettings settings, ResponseFilter filter, ReferenceResolver resolver)
{
    /// <summary>The judged answer; null when it cannot be matched to what was forwarded.</summary>
    public async Task<JsonObject?> JudgeAsync(ReadOnlyMemory<byte> body, BatchPlan plan, PermissionSet permissions)
    {
        var root = FhirJson.TryParse(body.Span) as JsonObject;
        if (root is null || !FhirElements.TryGetString(root, "type", out var type) || type is not ("batch-response" or "transaction-response")
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
            results[index] = await JudgeEntryAsync(answers[j] as JsonObject, parsed[j], plan.Requests[index], permissions, resolved, plan.ConsentPatients.GetValueOrDefault(index));
        }

        foreach (var (index, error) in plan.Errors)
        {
            results[index] = error;
        }

        root["entry"] = new JsonArray(results.Select(r => r?.DeepClone()).ToArray());
        root.Remove("total");
        return root;
    }

    /// <summary>A batch none of whose entries may go: the batch-response is made of error entries alone.</summary>
    public static JsonObject WithoutForwarding(BatchPlan plan)
        => new()
        {
            ["resourceType"] = "Bundle",
            ["type"] = plan.Transaction ? "transaction-response" : "batch-response",
            ["entry"] = new JsonArray(Enumerable.Range(0, plan.Count).Select(i => (JsonNode)plan.Errors[i].DeepClone()).ToArray()),
        };

    /// <summary>The entry that answers a refused entry: its status and an OperationOutcome.</summary>
    public static JsonObject ErrorEntry(Refusal refusal)
    {
        var insufficient = refusal is Refusal.Insufficient;
        var text = insufficient ? "The access token does not permit this entry." : refusal.Diagnostics;
        return new JsonObject
        {
            ["response"] = new JsonObject
            {
                ["status"] = $"{refusal.Status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(refusal.Status)}",
                ["outcome"] = JsonNode.Parse(OperationOutcomes.CreateString(refusal.IssueCode, text)),
            },
        };
    }

    private async Task<JsonNode> JudgeEntryAsync(JsonObject? answer, ParsedResponse? parsed, FhirRequest request, PermissionSet permissions, ResolvedReferences resolved,
        IReadOnlyList<string>? consentPatients)
    {
        if (answer is null)
        {
            return ErrorEntry(Refusal.Problem(502, "exception", "The FHIR server's answer to this entry is unusable."));
        }

        var succeeded = answer["response"] is JsonObject response && FhirElements.TryGetString(response, "status", out var status) && status.StartsWith('2');
        if ((request.IsWrite || request.OperationRule?.Kind == OperationKind.MetaWrite) && succeeded && request is { ResourceType: { } writtenType, Id: { } writtenId })
        {
            await resolver.InvalidateAsync(writtenType + "/" + writtenId);
        }

        foreach (var patient in succeeded ? consentPatients ?? [] : [])
        {
            await resolver.InvalidateConsentsAsync(patient);
        }

        if (answer["resource"] is not JsonObject)
        {
            return answer;
        }

        if (parsed is null)
        {
            return ErrorEntry(Refusal.Problem(502, "exception", "The FHIR server's answer to this entry is not FHIR JSON."));
        }

        if (parsed.RootFacts.ResourceType == "OperationOutcome" || request.OperationRule?.Kind is { } kind && kind != OperationKind.Reads)
        {
            return answer; // an operation judged by what it touches before it went ($meta, $validate): its answer as it is
        }

        var result = filter.Apply(parsed, resolved, permissions, request.IsWrite ? FhirAction.Read : request.Action); // a written resource is returned as a read by id
        if (result.Outcome == FilterOutcome.Denied || (result.Outcome == FilterOutcome.Emptied && settings.Gateway.SearchAllRemoved == SearchAllRemoved.Forbidden))
        {
            if (request.IsWrite)
            {
                answer.Remove("resource"); // written, but not readable by this token: status and location only
                return answer;
            }

            return ErrorEntry(Refusal.NotPermitted([]));
        }

        result.Edit?.ApplyTo(parsed.Root); // parsed.Root is this entry's resource

        return answer;
    }
}
