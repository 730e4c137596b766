using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// A batch or transaction (POST of a Bundle to the base): every entry is decided as if it were
/// sent alone, by the same rules (writes before forwarding, with If-Match on the stored version
/// checked; reads by what comes back, <see cref="BatchResponses"/>). A transaction with any refused
/// entry is refused whole and nothing is forwarded; in a batch, refused entries are answered by
/// error entries and the rest proceed.
/// <para>
/// The work one request can cause is bounded: at most HEARTH_MAX_BATCH_ENTRIES entries; every
/// entry is first checked without any I/O (<see cref="BatchEntries"/>), and a transaction stops
/// there at the first refusal; then the writes' stored versions are read, each Type/id once, at
/// most <see cref="MaxParallelDecisions"/> at a time, stopping at the first refusal of a transaction.
/// </para>
/// </summary>
internal sealed class BatchAuthorizer(HearthSettings settings, WriteAuthorizer writes, OperationAuthorizer operations, BatchConditionals conditionals, BatchResponses responses,
    Labeler labeler) : IInteractionAuthorizer
{
    public const int MaxParallelDecisions = 8;

    public bool Handles(FhirRequest request) => request.IsBatch;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var (bundle, transaction, refusal) = await ReadBundleAsync(http);
        if (refusal is not null)
        {
            return refusal;
        }

        var entries = bundle!["entry"] as JsonArray ?? [];
        var plan = new BatchPlan(transaction, entries.Count);
        var prepared = new BatchEntry?[entries.Count];
        var refusals = new Refusal?[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            (prepared[i], refusals[i]) = BatchEntries.Prepare(entries[i] as JsonObject, state.PublicBase, state.Permissions, settings);
            if (transaction && refusals[i] is not null)
            {
                return TransactionRefusal(refusals); // nothing is read for a transaction that is refused anyway
            }
        }

        // Conditional entries become the plain entries they resolve to before anything else looks at them.
        await conditionals.ResolveAsync(prepared, refusals, plan, state.Permissions, http.RequestAborted);
        if (transaction && refusals.Any(r => r is not null))
        {
            return TransactionRefusal(refusals);
        }

        var local = transaction ? BatchEntries.LocalTargets(prepared, refusals, state.PublicBase, settings.FhirServer.Base) : null;
        var decisions = transaction && refusals.Any(r => r is not null) ? [] : await DecideWritesAsync(prepared, refusals, state.Permissions, local, transaction, http.RequestAborted);
        if (transaction && refusals.Any(r => r is not null))
        {
            return TransactionRefusal(refusals);
        }

        bundle["entry"] = Forwarded(plan, prepared, refusals, decisions);
        if (plan is { Forwarded.Count: 0, Count: > 0 })
        {
            return Answer.Fhir(200, BatchResponses.WithoutForwarding(plan).ToJsonString(FhirJson.Output));
        }

        RequestBodies.Replace(http, Encoding.UTF8.GetBytes(bundle.ToJsonString(FhirJson.Output)), "application/fhir+json; charset=utf-8");
        return Verdict.Forward(new Forwarding(this, state, plan));
    }

    /// <summary>The Bundle posted (XML read as JSON), and whether it is a transaction; or why it is refused.</summary>
    private async Task<(JsonObject? Bundle, bool Transaction, Refusal? Refusal)> ReadBundleAsync(HttpContext http)
    {
        var mediaType = System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) ? type.MediaType : null;
        var format = mediaType is null ? null : FormatNegotiation.Classify(mediaType);
        if (format is null)
        {
            return (null, false, Refusal.Problem(415, "not-supported", "Send the Bundle as FHIR JSON or FHIR XML."));
        }

        var body = await RequestBodies.BufferAsync(http, settings.Gateway.MaxRequestBytes);
        Refusal? notXml = null;
        if (body is not null && format == FhirFormat.Xml)
        {
            body = RequestBodies.XmlToJson(body, out notXml);
        }

        if (body is null)
        {
            return (null, false, notXml ?? RequestBodies.TooLarge(settings.Gateway));
        }

        if (!FhirJson.IsValidUnicode(body))
        {
            return (null, false, Refusal.Problem(400, "structure", "The body is not valid Unicode (invalid UTF-8, or an escaped half of a surrogate pair)."));
        }

        if (FhirJson.TryParse(body) is not JsonObject bundle || !FhirElements.IsResource(bundle, out _, out var resourceType) || resourceType != "Bundle"
            || !FhirElements.TryGetString(bundle, "type", out var bundleType) || bundleType is not ("batch" or "transaction")
            || bundle["entry"] is not (null or JsonArray))
        {
            return (null, false, Refusal.Problem(400, "invalid", "POST to the base takes a Bundle of type batch or transaction."));
        }

        return (bundle["entry"] as JsonArray)?.Count > settings.Gateway.MaxBatchEntries
            ? (null, false, Refusal.Problem(413, "too-costly", $"A batch or transaction may have at most {settings.Gateway.MaxBatchEntries} entries (HEARTH_MAX_BATCH_ENTRIES)."))
            : (bundle, bundleType == "transaction", null);
    }

    /// <summary>
    /// Decides the write entries: their stored versions are read (each Type/id once, at most
    /// <see cref="MaxParallelDecisions"/> at a time) and judged. In a transaction, the first refusal stops the rest.
    /// </summary>
    private async Task<WriteDecision?[]> DecideWritesAsync(BatchEntry?[] prepared, Refusal?[] refusals, PermissionSet permissions,
        IReadOnlyDictionary<string, LocalTarget>? local, bool transaction, CancellationToken cancellationToken)
    {
        var decisions = new WriteDecision?[prepared.Length];
        var cache = new StoredVersions.Cache();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writeIndexes = Enumerable.Range(0, prepared.Length).Where(i => prepared[i] is { Classified.IsWrite: true } or { Classified.OperationRule.Kind: not OperationKind.Reads }
            && refusals[i] is null);
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelDecisions, CancellationToken = stop.Token };
        try
        {
            await Parallel.ForEachAsync(writeIndexes, options, async (i, token) =>
            {
                var entry = prepared[i]!;
                var decision = entry.Classified.IsWrite
                    ? await writes.DecideAsync(entry.Classified, entry.Body, entry.Patch, entry.IfMatch, permissions, token, local, cache)
                    : new WriteDecision(await operations.DecideAsync(entry.Classified, entry.Parameters, entry.Mode, permissions, token), null, null); // an operation judged by what it touches
                if (decision.Refusal is not { } refusal)
                {
                    decisions[i] = decision;
                    return;
                }

                refusals[i] = refusal;
                if (transaction)
                {
                    await stop.CancelAsync();
                }
            });
        }
        catch (OperationCanceledException) when (transaction && stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A transaction entry was refused: the rest are not decided.
        }

        return decisions;
    }

    /// <summary>The entries that go (pinned to their checked versions, patches as updates), in order; refused ones become error entries of the plan.</summary>
    private static JsonArray Forwarded(BatchPlan plan, BatchEntry?[] prepared, Refusal?[] refusals, WriteDecision?[] decisions)
    {
        var forwarded = new JsonArray();
        for (var i = 0; i < prepared.Length; i++)
        {
            if (refusals[i] is { } refusal)
            {
                plan.Errors[i] = BatchResponses.ErrorEntry(refusal);
                continue;
            }

            if (plan.Errors.ContainsKey(i))
            {
                continue; // answered without forwarding (a conditional delete that matched nothing)
            }

            var entry = prepared[i]!;
            if (decisions.Length > i && decisions[i] is { } decision)
            {
                if (decision.ExpectedVersion is { } version)
                {
                    entry.Request["ifMatch"] = $"W/\"{version}\"";
                }

                if (decision.ConsentPatients is { } consentPatients)
                {
                    plan.ConsentPatients[i] = consentPatients;
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

        return forwarded;
    }

    private static Refusal TransactionRefusal(Refusal?[] refusals)
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

            if (refusal is Refusal.Insufficient notPermitted)
            {
                insufficient = true;
                unmet.AddRange(notPermitted.Unmet);
            }

            problems.Add($"entry {i}: {(refusal is Refusal.Insufficient ? "the token does not permit it" : refusal.Diagnostics)}");
        }

        return insufficient
            ? Refusal.NotPermitted(unmet)
            : Refusal.Problem(400, "invalid", "The transaction is refused whole, nothing was forwarded: " + string.Join("; ", problems));
    }

    private async Task<Reply> JudgeAsync(RequestState state, BatchPlan plan, UpstreamAnswer upstream)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        var judged = (upstream.IsJson ? await responses.JudgeAsync(upstream.Body, plan, state.Permissions) : null)
            ?? throw new UpstreamException("The FHIR server's answer to the batch cannot be matched to its entries.");
        labeler.Apply(judged);
        return Answer.Fhir(upstream.Status, judged.ToJsonString(FhirJson.Output));
    }

    /// <summary>The body was replaced before forwarding (only the entries that may go, pinned); the answer is judged entry by entry.</summary>
    private sealed class Forwarding(BatchAuthorizer authorizer, RequestState state, BatchPlan plan) : IForwarding
    {
        public void ChangeRequest(HttpRequestMessage request)
        {
        }

        public Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken) => authorizer.JudgeAsync(state, plan, upstream);
    }
}
