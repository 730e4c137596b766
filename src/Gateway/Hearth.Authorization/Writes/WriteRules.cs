using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;

namespace Hearth.Authorization.Writes;

/// <summary>
/// The rules of a write, as pure functions (the gateway reads the stored versions and resolves
/// patients; these say what to check):
/// <list type="bullet">
/// <item>create: the body, <c>create</c>;</item>
/// <item>update: the body and the stored version, both <c>update</c> (no moving a resource out of,
/// or into, a patient the token cannot touch); an update that creates: the body <c>create</c>, the
/// last version before a delete <c>update</c>, and for a Patient <c>create</c> for any patient
/// (resources may already point at that id);</item>
/// <item>patch: the stored version <c>read</c> and <c>update</c> before any operation runs, then
/// the result <c>update</c>;</item>
/// <item>delete: the stored version, <c>delete</c>.</item>
/// </list>
/// </summary>
public static class WriteRules
{
    /// <summary>The body of a create or update against the URL: its type, and an update's id.</summary>
    public static Refusal? CheckBody(FhirRequest request, ResourceFacts body, string? bodyId)
    {
        if (body.ResourceType != request.ResourceType)
        {
            return Refusal.Problem(400, "invalid", $"The body is a {body.ResourceType}, the URL names {request.ResourceType}.");
        }

        return request.Interaction == FhirInteraction.Update && bodyId != request.Id
            ? Refusal.Problem(400, "invalid", "The resource's id must equal the id in the URL.")
            : null;
    }

    /// <summary>
    /// What a write needs judged before it goes on (before a patch runs), from what is stored:
    /// <paramref name="current"/> (null: nothing), and for an update that creates
    /// <paramref name="previous"/>, the last version before a delete. A refusal when there is
    /// nothing to judge (a patch or delete of nothing: 404, nothing forwarded).
    /// </summary>
    public static (IReadOnlyList<(ResourceFacts Facts, FhirAction Action)> Checks, Refusal? Refusal) StoredChecks(
        FhirRequest request, ResourceFacts? body, ResourceFacts? current, ResourceFacts? previous)
    {
        if (current is null && request.Interaction is FhirInteraction.Patch or FhirInteraction.Delete)
        {
            return ([], Refusal.Problem(404, "not-found", $"There is no {request.ResourceType} with id {request.Id}."));
        }

        List<(ResourceFacts, FhirAction)> checks = request.Interaction switch
        {
            FhirInteraction.Create => [(body! with { SelfReference = null }, FhirAction.Create)], // the server gives it an id of its own
            FhirInteraction.Update when current is not null => [(body!, FhirAction.Update), (current, FhirAction.Update)],
            FhirInteraction.Update => UpdateThatCreates(request, body!, previous),
            FhirInteraction.Patch => [(current!, FhirAction.Read), (current!, FhirAction.Update)],
            _ => [(current!, FhirAction.Delete)],
        };
        return (checks, null);
    }

    /// <summary>A patch's result: still the resource of the URL (type and id), then judged <c>update</c>.</summary>
    public static (IReadOnlyList<(ResourceFacts Facts, FhirAction Action)> Checks, Refusal? Refusal) PatchResultChecks(FhirRequest request, ResourceFacts? result, string? resultId)
        => result is null || result.ResourceType != request.ResourceType || resultId != request.Id
            ? ([], Refusal.Problem(422, "processing", "The patch would change the resource's type or id, or leave no resource."))
            : ([(result, FhirAction.Update)], null);

    /// <summary>
    /// Whether any grant of the token could allow this write, whatever the patients and labels
    /// (unprotected types always could). Decided from the request alone: a batch refuses an entry
    /// for which this is false without reading anything.
    /// </summary>
    public static bool CouldEverPermit(FhirRequest request, PermissionSet permissions, IReadOnlySet<string> unprotected)
    {
        var type = request.ResourceType!;
        if (unprotected.Contains(type))
        {
            return true;
        }

        return request.Interaction switch
        {
            FhirInteraction.Update => permissions.CouldGrant(type, FhirAction.Update) || permissions.CouldGrant(type, FhirAction.Create),
            FhirInteraction.Patch => permissions.CouldGrant(type, FhirAction.Update) && permissions.CouldGrant(type, FhirAction.Read),
            _ => permissions.CouldGrant(type, request.Action),
        };
    }

    /// <summary>A client's If-Match against the stored version that was checked: 412 when it names another.</summary>
    public static Refusal? CheckIfMatch(IReadOnlyList<string> ifMatch, string version)
        => ifMatch.Count > 0 && !ifMatch.Any(v => EntityTagMatches(v, version))
            ? Refusal.Problem(412, "conflict", "The resource has changed since the version named in If-Match.")
            : null;

    private static List<(ResourceFacts, FhirAction)> UpdateThatCreates(FhirRequest request, ResourceFacts body, ResourceFacts? previous)
    {
        var checks = new List<(ResourceFacts, FhirAction)> { (body, FhirAction.Create) };
        if (previous is not null)
        {
            checks.Add((previous, FhirAction.Update)); // a deleted resource is taken back only by who may change it
        }

        if (request.ResourceType == "Patient")
        {
            // Resources may already point at this id: creating it needs create for any patient.
            checks.Add((body with { PatientLink = PatientLinkKind.OutsideCompartment, PatientReferences = [], InlinePatients = [], Parts = [], SelfReference = null }, FhirAction.Create));
        }

        return checks;
    }

    private static bool EntityTagMatches(string? header, string version)
    {
        var value = (header ?? "").Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Trim('"') == version;
    }
}
