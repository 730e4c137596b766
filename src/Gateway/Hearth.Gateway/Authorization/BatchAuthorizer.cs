using System.Text;
using System.Text.Json;
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
/// proceed. In a transaction, a reference to another entry's urn fullUrl is resolved from that
/// entry (a Patient is named by its own identifiers; that entry is itself judged); a urn used by
/// several entries, or unknown, is unresolvable and denied.
/// </summary>
internal sealed class BatchAuthorizer(HearthSettings settings, WriteAuthorizer writes, ResponseFilter filter, PatientResolver resolver, ResponseJudge judge)
{
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
            return (null, new WriteRefusal(413, "too-costly", $"The request body is larger than {settings.MaxRequestBytes} bytes."));
        }

        if (format == FhirFormat.Xml)
        {
            try
            {
                body = Encoding.UTF8.GetBytes(Formats.FhirFormats.XmlToJson(Encoding.UTF8.GetString(body)));
            }
            catch (FormatException e)
            {
                return (null, new WriteRefusal(400, "structure", e.Message));
            }
        }

        var bundle = FhirJson.TryParse(body) as JsonObject;
        if (bundle is null || !ResourceInspector.TryGetString(bundle, "resourceType", out var resourceType) || resourceType != "Bundle"
            || !ResourceInspector.TryGetString(bundle, "type", out var bundleType) || bundleType is not ("batch" or "transaction"))
        {
            return (null, new WriteRefusal(400, "invalid", "POST to the base takes a Bundle of type batch or transaction."));
        }

        var entries = bundle["entry"] as JsonArray ?? [];
        var plan = new BatchPlan(bundleType == "transaction", entries.Count);

        // In a transaction, entries may refer to each other by urn fullUrl (the server assigns the ids).
        var local = plan.Transaction
            ? entries.OfType<JsonObject>()
                .Where(e => ResourceInspector.TryGetString(e, "fullUrl", out var u) && (u.StartsWith("urn:uuid:", StringComparison.Ordinal) || u.StartsWith("urn:oid:", StringComparison.Ordinal)) && e["resource"] is JsonObject)
                .GroupBy(e => e["fullUrl"]!.GetValue<string>())
                .ToDictionary(g => g.Key, g => g.Count() == 1 ? (JsonObject)g.Single()["resource"]! : new JsonObject())
            : null;
        var forwarded = new JsonArray();
        var insufficient = false;
        var unmet = new List<RequiredPermission>();
        var problems = new List<string>();
        for (var i = 0; i < entries.Count; i++)
        {
            var (request, refusal) = await DecideEntryAsync(entries[i] as JsonObject, feature, permissions, local, context.RequestAborted);
            if (refusal is not null)
            {
                insufficient |= refusal.Insufficient;
                unmet.AddRange(refusal.Unmet);
                problems.Add($"entry {i}: {(refusal.Insufficient ? "the token does not permit it" : refusal.Diagnostics)}");
                plan.Errors[i] = ErrorEntry(refusal);
                continue;
            }

            plan.Requests[i] = request!;
            plan.Forwarded.Add(i);
            forwarded.Add(entries[i]!.DeepClone());
        }

        if (plan.Transaction && problems.Count > 0)
        {
            return (null, insufficient
                ? WriteRefusal.NotPermittedFor(unmet)
                : new WriteRefusal(400, "invalid", "The transaction is refused whole, nothing was forwarded: " + string.Join("; ", problems)));
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
        var results = new JsonNode?[plan.Count];
        for (var j = 0; j < answers.Count; j++)
        {
            var index = plan.Forwarded[j];
            results[index] = await JudgeEntryAsync(answers[j] as JsonObject, plan.Requests[index], permissions);
        }

        foreach (var (index, error) in plan.Errors)
        {
            results[index] = error;
        }

        root["entry"] = new JsonArray(results.Select(r => r?.DeepClone()).ToArray());
        root.Remove("total");
        return root;
    }

    private async Task<JsonNode> JudgeEntryAsync(JsonObject? answer, FhirRequest request, PermissionSet permissions)
    {
        if (answer is null)
        {
            return ErrorEntry(new WriteRefusal(502, "exception", "The FHIR server's answer to this entry is unusable."));
        }

        var succeeded = answer["response"] is JsonObject response && ResourceInspector.TryGetString(response, "status", out var status) && status.StartsWith('2');
        if (request.IsWrite && succeeded && request is { ResourceType: "Patient", Id: { } patientId })
        {
            await resolver.InvalidateAsync("Patient/" + patientId);
        }

        if (answer["resource"] is not JsonObject resource)
        {
            return answer;
        }

        var bytes = Encoding.UTF8.GetBytes(resource.ToJsonString());
        var parsed = filter.Parse(bytes, judgeEntries: !request.IsWrite && !request.ReturnsSingleResource);
        if (parsed is null)
        {
            return ErrorEntry(new WriteRefusal(502, "exception", "The FHIR server's answer to this entry is not FHIR JSON."));
        }

        if (parsed.RootFacts.ResourceType == "OperationOutcome")
        {
            return answer;
        }

        var result = await judge.JudgeAsync(parsed, permissions, "read");
        if (result.Outcome == FilterOutcome.Denied)
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

    private async Task<(FhirRequest? Request, WriteRefusal? Refusal)> DecideEntryAsync(
        JsonObject? entry, HearthRequestFeature feature, PermissionSet permissions, IReadOnlyDictionary<string, JsonObject>? local, CancellationToken cancellationToken)
    {
        if (entry?["request"] is not JsonObject request
            || !ResourceInspector.TryGetString(request, "method", out var method) || !ResourceInspector.TryGetString(request, "url", out var url))
        {
            return (null, new WriteRefusal(400, "required", "Each entry needs request.method and request.url."));
        }

        foreach (var prefix in new[] { feature.PublicBase, settings.FhirServerBase })
        {
            if (url.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                url = url[(prefix.Length + 1)..];
            }
        }

        if (url.Contains("://", StringComparison.Ordinal))
        {
            return (null, new WriteRefusal(400, "invalid", "An entry's request.url must be relative to this server."));
        }

        var question = url.IndexOf('?');
        var path = "/" + (question >= 0 ? url[..question] : url).TrimStart('/');
        var query = question >= 0 ? Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url[question..]) : [];
        var classification = RequestClassifier.Classify(method, path, settings.AllowedOperations);
        if (classification.Request is not { } classified)
        {
            return (null, new WriteRefusal(classification.Status, classification.IssueCode, classification.Diagnostics));
        }

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

        if (!classified.IsWrite)
        {
            return (classified, null); // judged by what comes back
        }

        if (query.Count > 0 || request.ContainsKey("ifNoneExist") || request.ContainsKey("ifNoneMatch") || request.ContainsKey("ifModifiedSince"))
        {
            return (null, new WriteRefusal(400, "not-supported", "Conditional writes are not supported by Hearth yet."));
        }

        byte[] body = [];
        if (classified.Interaction is FhirInteraction.Create or FhirInteraction.Update)
        {
            if (entry["resource"] is not JsonObject resource)
            {
                return (null, new WriteRefusal(400, "required", "A create or update entry needs a resource."));
            }

            body = Encoding.UTF8.GetBytes(resource.ToJsonString());
        }

        var patch = PatchKind.None;
        if (classified.Interaction == FhirInteraction.Patch)
        {
            // FHIR carries a FHIRPath Patch in a batch as its Parameters, a JSON Patch as a Binary.
            if (entry["resource"] is JsonObject parameters && ResourceInspector.TryGetString(parameters, "resourceType", out var patchType) && patchType == "Parameters")
            {
                patch = PatchKind.FhirPath;
                body = Encoding.UTF8.GetBytes(parameters.ToJsonString());
            }
            else if (entry["resource"] is not JsonObject binary || !ResourceInspector.TryGetString(binary, "resourceType", out var binaryType) || binaryType != "Binary"
                || !ResourceInspector.TryGetString(binary, "contentType", out var contentType) || contentType != "application/json-patch+json"
                || !ResourceInspector.TryGetString(binary, "data", out var data))
            {
                return (null, new WriteRefusal(415, "not-supported", "A patch entry must carry a FHIRPath Patch (Parameters) or a JSON Patch as a Binary (application/json-patch+json)."));
            }
            else
            {
                patch = PatchKind.Json;
                try
                {
                    body = Convert.FromBase64String(data);
                }
                catch (FormatException)
                {
                    return (null, new WriteRefusal(400, "structure", "The patch entry's Binary data is not base64."));
                }
            }
        }

        var ifMatch = ResourceInspector.TryGetString(request, "ifMatch", out var match) ? new[] { match } : [];
        var decision = await writes.DecideAsync(classified, body, patch, ifMatch, permissions, cancellationToken, local);
        if (decision.Refusal is { } refusal)
        {
            return (null, refusal);
        }

        if (decision.ExpectedVersion is { } version)
        {
            request["ifMatch"] = $"W/\"{version}\"";
        }

        if (decision.Replacement is { } replacement)
        {
            // A patch entry is forwarded as the update Hearth judged (see FhirPathPatch).
            request["method"] = "PUT";
            entry["resource"] = replacement;
        }

        return (classified, null);
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
