using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Writes;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Conditional create (<c>If-None-Exist</c>), update, patch and delete (<c>[type]?criteria</c>),
/// judged instead of forwarded as they came: a FHIR server resolving the criteria would see
/// resources the token may not, and its answer (created or found, 412, which resource changed)
/// would tell. The criteria are read strictly (<see cref="ConditionalCriteria"/>), may reach other
/// types only where a search's could (<see cref="SearchCriteria"/>), and are resolved with the
/// token's view (<see cref="ConditionalMatches"/>); what that becomes (<see cref="ConditionalWrites"/>)
/// is decided by <see cref="WriteAuthorizer"/> exactly as the plain interaction, and sent as one.
/// A create by a token that may read every resource of the type keeps its condition (the FHIR
/// server's answer then hides nothing from it).
/// </summary>
internal sealed class ConditionalAuthorizer(HearthSettings settings, WriteAuthorizer writes, ConditionalMatches matches, StoredVersions stored, ReferenceResolver resolver)
    : IInteractionAuthorizer
{
    private static readonly string[] FormatParameters = ["_format", "_pretty"];

    public bool Handles(FhirRequest request) => request.Conditional;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var request = state.Request;
        var (criteria, refusal) = ReadCriteria(request, http.Request);
        if (refusal is not null)
        {
            return refusal;
        }

        if (SearchCriteria.Unreadable(request.ResourceType, criteria!.Named, state.Permissions, settings.Rules) is { } criterion)
        {
            return new Refusal.Criterion(criterion.Parameter, criterion.Types);
        }

        if (!WriteRules.CouldEverPermit(request, state.Permissions, settings.Rules.UnprotectedResourceTypes))
        {
            return Refusal.NotPermitted([]);
        }

        var (body, patch, bodyRefusal) = await writes.ReadBodyAsync(http, request);
        if (bodyRefusal is not null)
        {
            return bodyRefusal;
        }

        var plainCreate = request with { Conditional = false };
        var create = default(WriteDecision);
        if (request.Interaction == FhirInteraction.Create)
        {
            // The body is judged as a create before anything is searched: a refusal says nothing of what matches.
            create = await writes.DecideAsync(plainCreate, body, patch, [], state.Permissions, http.RequestAborted);
            if (create.Refusal is not null || state.Permissions.ReadsEverything(request.ResourceType))
            {
                return create.Refusal ?? writes.Forward(state, http, plainCreate, create, criteria.Query);
            }
        }

        var (visible, unresolved) = await matches.FindAsync(criteria, state.Permissions, ConditionalWrites.Enough(request), http.RequestAborted);
        if (unresolved is not null)
        {
            return unresolved;
        }

        var bodyId = BodyId(request, body);
        var resolution = ConditionalWrites.Resolve(request, visible, bodyId);
        if (resolution.Refusal is { } refused)
        {
            return refused;
        }

        return resolution.Plain switch
        {
            [] => Answer.Fhir(200, ConditionalWrites.NothingDeleted),
            [{ Interaction: FhirInteraction.Create }] when request.Interaction == FhirInteraction.Create
                => writes.Forward(state, http, plainCreate, create, resolution.Existing is { } existing ? "_id=" + Uri.EscapeDataString(existing) : null),
            [var one] => await DecideAsync(state, http, one, bodyId is null && one.Interaction == FhirInteraction.Update ? WithId(http, body, one.Id!) : body, patch),
            var several => await DeleteAllAsync(state, several, http.RequestAborted),
        };
    }

    /// <summary>
    /// The criteria of a conditional request: one If-None-Exist header for a create, the query of
    /// the others (without _format and _pretty). A plain write has none: If-None-Exist on anything
    /// but a create, and search parameters on a write by id, are refused.
    /// </summary>
    public static (ConditionalCriteria? Criteria, Refusal? Refusal) ReadCriteria(FhirRequest request, HttpRequest http)
    {
        var ifNoneExist = http.Headers["If-None-Exist"];
        var query = (http.QueryString.Value ?? "").TrimStart('?').Split('&')
            .Where(p => p.Length > 0 && !FormatParameters.Any(f => p == f || p.StartsWith(f + "=", StringComparison.Ordinal))).ToList();
        if (ifNoneExist.Count > 0 && request.Interaction != FhirInteraction.Create)
        {
            return (null, Refusal.Problem(400, "invalid", "If-None-Exist belongs to a create (POST [type])."));
        }

        if (!request.Conditional || request.Interaction == FhirInteraction.Create)
        {
            if (query.Count > 0)
            {
                return (null, Refusal.Problem(400, "invalid", request.Conditional
                    ? "A conditional create takes its criteria in If-None-Exist, not in the URL."
                    : "A write addressed by id takes no search criteria: address the resource by its id or by criteria (PUT [type]?criteria), not both."));
            }

            if (!request.Conditional)
            {
                return (null, null);
            }

            if (ifNoneExist.Count != 1)
            {
                return (null, Refusal.Problem(400, "invalid", "A conditional create takes one If-None-Exist header."));
            }
        }

        var text = request.Interaction == FhirInteraction.Create ? ifNoneExist[0] ?? "" : string.Join('&', query);
        var criteria = ConditionalCriteria.Parse(request.ResourceType!, text, out var error);
        return criteria is null ? (null, Refusal.Problem(400, "invalid", error!)) : (criteria, null);
    }

    /// <summary>The one plain interaction, decided and forwarded exactly as if the client had sent it.</summary>
    private async Task<Verdict> DecideAsync(RequestState state, HttpContext http, FhirRequest plain, byte[] body, PatchKind patch)
    {
        var decision = await writes.DecideAsync(plain, body, patch, WriteAuthorizer.IfMatch(http), state.Permissions, http.RequestAborted);
        return decision.Refusal ?? writes.Forward(state, http, plain, decision);
    }

    /// <summary>
    /// A conditional delete that matched several resources the token may see: each is judged as a
    /// delete (all must be permitted, or nothing is deleted), then deleted by a plain DELETE pinned
    /// to the version judged.
    /// </summary>
    private async Task<Verdict> DeleteAllAsync(RequestState state, IReadOnlyList<FhirRequest> deletes, CancellationToken cancellationToken)
    {
        var cache = new StoredVersions.Cache();
        var decisions = new List<WriteDecision>();
        foreach (var delete in deletes)
        {
            var decision = await writes.DecideAsync(delete, [], PatchKind.None, [], state.Permissions, cancellationToken, cache: cache);
            if (decision.Refusal is { } refused)
            {
                return refused;
            }

            decisions.Add(decision);
        }

        for (var i = 0; i < deletes.Count; i++)
        {
            var status = await stored.DeleteAsync(deletes[i].ResourceType!, deletes[i].Id!, decisions[i].ExpectedVersion, cancellationToken);
            await resolver.InvalidateAsync(deletes[i].ResourceType + "/" + deletes[i].Id);
            foreach (var patient in decisions[i].ConsentPatients ?? [])
            {
                await resolver.InvalidateConsentsAsync(patient);
            }
            if ((int)status is < 200 or >= 300 && status != HttpStatusCode.NotFound && status != HttpStatusCode.Gone)
            {
                return Refusal.Problem(status == HttpStatusCode.PreconditionFailed ? 412 : 502, status == HttpStatusCode.PreconditionFailed ? "conflict" : "transient",
                    $"{i} of the {deletes.Count} matching resources were deleted; the FHIR server answered {(int)status} to the next, and the rest were left.");
            }
        }

        return Answer.Fhir(200, OperationOutcomes.CreateString("informational", $"Deleted the {deletes.Count} resources that match the criteria.", "information"));
    }

    private static string? BodyId(FhirRequest request, byte[] body)
        => request.Interaction is FhirInteraction.Create or FhirInteraction.Update && FhirJson.TryParse(body) is JsonObject resource
           && FhirElements.TryGetString(resource, "id", out var id) && id.Length > 0 ? id : null;

    /// <summary>An update resolved to <paramref name="id"/> whose body has none: the id is set, in what is judged and what is forwarded.</summary>
    private static byte[] WithId(HttpContext http, byte[] body, string id)
    {
        if (FhirJson.TryParse(body) is not JsonObject resource)
        {
            return body; // not a resource: refused as such when decided
        }

        resource["id"] = id;
        var json = Encoding.UTF8.GetBytes(resource.ToJsonString(FhirJson.Output));
        RequestBodies.Replace(http, json, "application/fhir+json; charset=utf-8");
        return json;
    }
}
