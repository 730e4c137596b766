using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;
using Hearth.Authorization.Fhir;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Reads, searches, history and GET operations. Before forwarding: search criteria may only look
/// at what the token may read (<see cref="SearchCriteria"/>). The answer: every resource in it is
/// judged, whatever the URL said; one resource permitted or 403; a Bundle as is, redacted, or
/// emptied (served as no matches, or 403, per HEARTH_SEARCH_ALL_REMOVED); then labelled (the
/// labeling service) and subset (<c>_summary</c>/<c>_elements</c>, after judging).
/// </summary>
internal sealed partial class ReadAuthorizer(HearthSettings settings, ResponseFilter filter, ResponseJudge judge, Labeler labeler, WriteAuthorizer writes, ILogger<ReadAuthorizer> logger)
    : IInteractionAuthorizer
{
    /// <summary>The metric's outcome values, made once (not per request).</summary>
    private static readonly string[] OutcomeNames = Enum.GetNames<FilterOutcome>().Select(n => n.ToLowerInvariant()).ToArray();

    public bool Handles(FhirRequest request) => !request.IsWrite && !request.IsBatch && !request.IsExport && !request.IsPublicMetadata
        && request.OperationRule is null or { Kind: OperationKind.Reads };

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var request = state.Request;
        var parameters = RequestChecks.Named(state.Shape.Parameters.Concat(request.FormSearch ? http.Request.Query : []));
        if (request.ByPost)
        {
            // An operation by POST: its Parameters are what a GET would carry in its query, bounded and checked the same.
            var (body, refusal) = await OperationBodies.ReadAsync(writes, http, request);
            var primitives = body is null ? [] : OperationParameters.Primitives(body);
            if (refusal is not null || primitives is null)
            {
                return refusal ?? Refusal.Problem(400, "structure", $"The body of ${request.Operation} must be a Parameters resource.");
            }

            parameters = parameters.Concat(primitives).ToList();
            if (SearchLimits.Check(parameters) is { } tooCostly)
            {
                return Refusal.Problem(400, "too-costly", tooCostly);
            }
        }

        if ((state.Shape.Parameters.Count > 0 || request.ByPost || (request.FormSearch && http.Request.Query.Count > 0))
            && SearchCriteria.Unreadable(request.ResourceType, parameters, state.Permissions, settings.Rules) is { } criterion)
        {
            LogCriterionRefused(logger, criterion.Types is null ? "*" : string.Join(",", criterion.Types));
            return new Refusal.Criterion(criterion.Parameter, criterion.Types);
        }

        return Verdict.Forward(new Forwarding(this, state));
    }

    private async Task<Reply> JudgeAsync(RequestState state, UpstreamAnswer upstream)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        var request = state.Request;
        var parsed = (upstream.IsJson ? filter.Parse(upstream.Body, judgeEntries: !request.ReturnsSingleResource) : null)
            ?? throw new UpstreamException("The FHIR server's answer is not a FHIR JSON resource, so it cannot be authorized.");
        var reply = default(Reply);
        try
        {
            reply = await JudgeAsync(state, upstream, parsed);
            return reply;
        }
        finally
        {
            if (reply.Answer?.Owner != parsed)
            {
                parsed.Dispose(); // else the answer owns it: the Bundle is written from it
            }
        }
    }

    private async ValueTask<Reply> JudgeAsync(RequestState state, UpstreamAnswer upstream, ParsedResponse parsed)
    {
        var request = state.Request;
        var result = await judge.JudgeAsync(parsed, state.Permissions, request.Action);
        state.Removed = result.Removed;
        state.Kept = result.Kept;
        state.Judged = parsed.Judged;
        HearthTelemetry.Responses.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeNames[(int)result.Outcome]));
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogDecision(logger, request.Interaction.ToString(), request.ResourceType, result.Outcome, result.Kept, result.Removed,
                state.TokenHash is null ? "-" : TokenKey.ForLog(state.TokenHash));
        }

        // A read by id that is not permitted is refused; so is a search whose entries were all
        // removed, unless HEARTH_SEARCH_ALL_REMOVED=empty (OAuth mode's default): then it is served
        // empty, as if nothing had matched, with its paging links (a later page may hold more).
        if (result.Outcome == FilterOutcome.Denied || (result.Outcome == FilterOutcome.Emptied && settings.Gateway.SearchAllRemoved == SearchAllRemoved.Forbidden))
        {
            return Refusal.NotPermitted(result.Unmet);
        }

        if (!labeler.Enabled && state.Shape.Subsetting is null)
        {
            // One pass: the FHIR server's bytes as they are, or the Bundle written again from them
            // without what was removed (kept entries copied, not re-serialised).
            if (result.Edit is not { } edit)
            {
                return Answer.Fhir(upstream.Status, upstream.Body) with { KeepValidators = true };
            }

            return Answer.Fhir(upstream.Status, ReadOnlyMemory<byte>.Empty, owner: parsed) with { Edited = new EditedBundle(parsed.Document!, edit) };
        }

        // Labels or subsetting change resources: on the parsed tree.
        result.Edit?.ApplyTo(parsed.Root);
        var labeled = labeler.Apply(parsed.Root);
        var json = labeled || result.Edit is not null ? parsed.Root.ToJsonString(FhirJson.Output) : Encoding.UTF8.GetString(upstream.Body.Span);
        if (state.Shape.Subsetting is { } subsetting)
        {
            json = Subset(subsetting, json, parsed.Entries is not null);
        }

        return Answer.Fhir(upstream.Status, json) with { KeepValidators = result.Edit is null && state.Shape.Subsetting is null && !labeled };
    }

    private static string Subset(Formats.Subsetting subsetting, string json, bool entries)
    {
        try
        {
            return subsetting.Apply(json, entries);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new UpstreamException("The FHIR server's answer cannot be subsetted as _summary/_elements ask.");
        }
    }

    /// <summary>A read is forwarded as it came.</summary>
    private sealed class Forwarding(ReadAuthorizer authorizer, RequestState state) : IForwarding
    {
        public Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken) => authorizer.JudgeAsync(state, upstream);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Interaction} {ResourceType}: {Outcome}, kept {Kept}, removed {Removed} (token {TokenHash})")]
    private static partial void LogDecision(ILogger logger, string interaction, string? resourceType, FilterOutcome outcome, int kept, int removed, string tokenHash);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a search criterion that looks at {Types} resources not all readable with the grants presented")]
    private static partial void LogCriterionRefused(ILogger logger, string types);
}
