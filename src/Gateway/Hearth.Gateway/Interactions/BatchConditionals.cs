using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Writes;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The conditional entries of a batch or transaction, resolved as a conditional request alone is
/// (<see cref="ConditionalAuthorizer"/>): each entry's criteria by a search with the token's view,
/// then rewritten into the plain entry it becomes (its method and url, the body's id, no condition
/// but a create's <c>ifNoneExist: _id=</c> of its one visible match), which is decided with the
/// other writes. A create by a token that reads the whole type keeps its condition. One entry
/// answers one entry: a conditional delete matching several visible resources is refused (412) in
/// a batch, and one matching none is answered without forwarding (200, nothing deleted).
/// </summary>
internal sealed class BatchConditionals(ConditionalMatches matches)
{
    /// <summary>The most conditional entries one batch or transaction may have (each is a search of up to 10 pages).</summary>
    public const int MaxConditionalEntries = 20;

    /// <summary>Resolves every conditional entry, at most <see cref="BatchAuthorizer.MaxParallelDecisions"/> at a time; an entry answered without forwarding goes to <paramref name="plan"/>.</summary>
    public async Task ResolveAsync(BatchEntry?[] prepared, Refusal?[] refusals, BatchPlan plan, PermissionSet permissions, CancellationToken cancellationToken)
    {
        var answered = new JsonObject?[prepared.Length];
        var indexes = Enumerable.Range(0, prepared.Length).Where(i => prepared[i]?.Criteria is not null && refusals[i] is null).ToList();
        foreach (var beyond in indexes.Skip(MaxConditionalEntries))
        {
            // Each costs up to ConditionalMatches.MaxPages searches: bounded per request, as a batch's entries are.
            refusals[beyond] = Refusal.Problem(413, "too-costly", $"A batch or transaction may have at most {MaxConditionalEntries} conditional entries.");
            prepared[beyond] = null;
        }

        indexes = indexes.Take(MaxConditionalEntries).ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = BatchAuthorizer.MaxParallelDecisions, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(indexes, options, async (i, token) => (prepared[i], refusals[i], answered[i]) = await ResolveAsync(prepared[i]!, permissions, token));
        for (var i = 0; i < answered.Length; i++)
        {
            if (answered[i] is { } entry)
            {
                plan.Errors[i] = entry;
            }
        }
    }

    private async Task<(BatchEntry? Entry, Refusal? Refusal, JsonObject? Answered)> ResolveAsync(BatchEntry entry, PermissionSet permissions, CancellationToken cancellationToken)
    {
        var (conditional, criteria) = (entry.Classified, entry.Criteria!);
        if (conditional.Interaction == FhirInteraction.Create && permissions.ReadsEverything(conditional.ResourceType))
        {
            entry.Request["ifNoneExist"] = criteria.Query; // as Hearth read it
            return (entry with { Classified = conditional with { Conditional = false }, Criteria = null }, null, null);
        }

        var (visible, unresolved) = await matches.FindAsync(criteria, permissions, ConditionalWrites.Enough(conditional), cancellationToken);
        var bodyId = entry.Entry["resource"] is JsonObject resource && FhirElements.TryGetString(resource, "id", out var id) && id.Length > 0 ? id : null;
        var resolution = unresolved is null ? ConditionalWrites.Resolve(conditional, visible, conditional.Interaction is FhirInteraction.Create or FhirInteraction.Update ? bodyId : null) : null;
        if ((unresolved ?? resolution!.Refusal) is { } refused)
        {
            return (null, refused, null);
        }

        switch (resolution!.Plain)
        {
            case []:
                return (null, null, new JsonObject
                {
                    ["response"] = new JsonObject
                    {
                        ["status"] = "200 OK",
                        ["outcome"] = JsonNode.Parse(ConditionalWrites.NothingDeleted),
                    },
                });
            case [var plain]:
                return (Rewrite(entry, plain, resolution.Existing), null, null);
            default:
                return (null, Refusal.Problem(412, "multiple-matches", "In a batch or transaction, a conditional delete may remove one resource; these criteria match several."), null);
        }
    }

    /// <summary>The entry as the plain interaction it became.</summary>
    private static BatchEntry Rewrite(BatchEntry entry, FhirRequest plain, string? existing)
    {
        var request = entry.Request;
        request.Remove("ifNoneExist");
        if (existing is not null)
        {
            request["ifNoneExist"] = "_id=" + Uri.EscapeDataString(existing);
        }

        request["method"] = ConditionalWrites.MethodOf(plain.Interaction);
        request["url"] = plain.ResourceType + (plain.Id is null ? "" : "/" + plain.Id);
        var body = entry.Body;
        if (plain.Interaction == FhirInteraction.Update && entry.Entry["resource"] is JsonObject resource)
        {
            resource["id"] = plain.Id;
            body = Encoding.UTF8.GetBytes(resource.ToJsonString(FhirJson.Output));
        }

        return entry with { Classified = plain, Criteria = null, Body = body };
    }
}
