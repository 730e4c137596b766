using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Grains;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// UMA mode: the permissions a refused request implies, and their registration (by a silo) for a
/// ticket.
/// <para>
/// Without a usable token Hearth neither forwards the request nor asks the FHIR server anything:
/// the permissions come from the request alone. Its action and resource type; its patients when
/// the request names them by identifier (<c>patient.identifier=</c>, a Patient search by
/// identifier) or by a Patient id whose identifier a patient grain already holds. What the request
/// cannot tell (the patient of <c>Observation/1</c>, any resource's labels) is <c>"*"</c>. When a
/// token falls short, the ticket names exactly what the refused resources needed.
/// </para>
/// </summary>
internal sealed class UmaTickets(IGrainFactory grains, ReferenceResolver resolver)
{
    public async Task<IReadOnlyList<JsonObject>> FromRequestAsync(FhirRequest request, IEnumerable<KeyValuePair<string, StringValues>> parameters)
    {
        if (request.Interaction == FhirInteraction.BulkExport)
        {
            // As Pauldron Hearth registers an export: every requested type, any patient, any label.
            var types = QueryValues.Split(parameters.Where(p => p.Key == "_type").SelectMany(p => p.Value)).DefaultIfEmpty(null);
            return types.Select(t => PermissionRegistration.Permission(null, t, request.Action, labels: null)).ToList();
        }

        var named = parameters.Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)p.Value.Select(v => v ?? "").ToList()));
        var (ids, identifiers) = RequestPatients.Named(request, named);
        var patients = new List<PatientIdentifier?>(identifiers);
        foreach (var id in ids.Take(20))
        {
            patients.Add(await resolver.PeekAsync(id));
        }

        if (patients.Count == 0)
        {
            patients.Add(null);
        }

        var type = request.Interaction is FhirInteraction.Operation or FhirInteraction.SearchSystem or FhirInteraction.HistorySystem or FhirInteraction.Batch
            ? null
            : request.ResourceType;
        var action = request.IsBatch ? "*" : request.Action;
        return patients.Distinct().Select(p => PermissionRegistration.Permission(p, type, action, labels: null)).ToList();
    }

    public static IReadOnlyList<JsonObject> From(IEnumerable<RequiredPermission> unmet) => unmet.SelectMany(PermissionRegistration.From).ToList();

    /// <summary>The ticket, or null when the authorization server could not register the permissions.</summary>
    public Task<string?> RegisterAsync(IReadOnlyList<JsonObject> permissions)
        => grains.GetGrain<IPermissionTicketGrain>(0).RegisterAsync(PermissionRegistration.Serialize(permissions));
}
