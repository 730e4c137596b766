using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Writes;

/// <summary>
/// What a conditional interaction becomes once its criteria were resolved by a search with the
/// token's view (the matches the token may see; hidden ones are never counted, so nothing here
/// depends on them):
/// <list type="bullet">
/// <item>create (<c>If-None-Exist</c>): no visible match → a plain create; one → the create sent
/// with <c>If-None-Exist: _id=</c> that match (the FHIR server answers with it, as it would); several → 412;</item>
/// <item>update: none → a create (the body may not carry an id then: 400); one → an update of that id
/// (a body id naming another → 400); several → 412;</item>
/// <item>patch: none → 404; one → a patch of that id; several → 412;</item>
/// <item>delete: none → nothing to delete (200); one or more, up to <see cref="MaxDeletes"/> → a
/// plain delete of each (every one judged); more → 412.</item>
/// </list>
/// </summary>
public static class ConditionalWrites
{
    /// <summary>The most resources one conditional delete removes.</summary>
    public const int MaxDeletes = 100;

    /// <summary>How many visible matches to look for before the answer cannot change: two for all but delete.</summary>
    public static int Enough(FhirRequest conditional) => conditional.Interaction == FhirInteraction.Delete ? MaxDeletes + 1 : 2;

    /// <param name="conditional">The conditional request (its <see cref="FhirRequest.Id"/> is null).</param>
    /// <param name="visible">The ids of the matches the token may see, up to <see cref="Enough"/>.</param>
    /// <param name="bodyId">The id in a create's or update's body, if any.</param>
    public static ConditionalResolution Resolve(FhirRequest conditional, IReadOnlyList<string> visible, string? bodyId)
    {
        var type = conditional.ResourceType!;
        FhirRequest Plain(FhirInteraction interaction, string? id) => new(interaction, type, id);
        if (visible.Count > 1 && conditional.Interaction != FhirInteraction.Delete)
        {
            return ConditionalResolution.Refused(MultipleMatches());
        }

        return conditional.Interaction switch
        {
            FhirInteraction.Create => new([Plain(FhirInteraction.Create, null)], null) { Existing = visible.Count == 1 ? visible[0] : null },
            FhirInteraction.Update when visible.Count == 0 => bodyId is null
                ? new([Plain(FhirInteraction.Create, null)], null)
                : ConditionalResolution.Refused(Refusal.Problem(400, "invalid",
                    "Nothing matches the criteria, so this update would create a resource: leave the id out of the body (or use PUT [type]/[id]).")),
            FhirInteraction.Update => bodyId is not null && bodyId != visible[0]
                ? ConditionalResolution.Refused(Refusal.Problem(400, "invalid", "The resource's id is not the id of the resource the criteria match."))
                : new([Plain(FhirInteraction.Update, visible[0])], null),
            FhirInteraction.Patch => visible.Count == 0
                ? ConditionalResolution.Refused(Refusal.Problem(404, "not-found", $"No {type} matches the criteria."))
                : new([Plain(FhirInteraction.Patch, visible[0])], null),
            FhirInteraction.Delete => visible.Count > MaxDeletes
                ? ConditionalResolution.Refused(Refusal.Problem(412, "too-costly", $"The criteria match more than {MaxDeletes} resources; a conditional delete removes at most {MaxDeletes}."))
                : new(visible.Select(id => Plain(FhirInteraction.Delete, id)).ToList(), null),
            _ => throw new ArgumentException("Not a conditional write.", nameof(conditional)),
        };
    }

    /// <summary>The answer (200) to a conditional delete whose criteria match nothing the token may see.</summary>
    public static string NothingDeleted { get; } = OperationOutcomes.CreateString("informational", "No resource matches the criteria; nothing was deleted.", "information");

    /// <summary>The HTTP method of a plain write.</summary>
    public static string MethodOf(FhirInteraction interaction) => interaction switch
    {
        FhirInteraction.Create => "POST",
        FhirInteraction.Delete => "DELETE",
        FhirInteraction.Patch => "PATCH",
        FhirInteraction.Update => "PUT",
        _ => throw new ArgumentException("Not a write.", nameof(interaction)),
    };

    /// <summary>FHIR's answer to conditional criteria that match several resources: 412 Precondition Failed.</summary>
    public static Refusal MultipleMatches()
        => Refusal.Problem(412, "multiple-matches", "The criteria match more than one resource; make them more selective.");
}

/// <summary>
/// The plain interactions a conditional one becomes (none: a delete that matched nothing), or why it
/// is refused. For a create, <see cref="Existing"/> is the id of the one visible match, if any.
/// </summary>
public sealed record ConditionalResolution(IReadOnlyList<FhirRequest> Plain, Refusal? Refusal)
{
    public string? Existing { get; init; }

    public static ConditionalResolution Refused(Refusal refusal) => new([], refusal);
}
