using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Gateway.Interactions;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// UMA mode: the permissions a refused request implies, and their registration (by a silo) for a
/// ticket.
/// <para>
/// Without a usable token Hearth does not forward the request: the permissions come from the
/// request alone. Its action and resource type; its patients when the request names them by
/// identifier (<c>patient.identifier=</c>, a Patient search by identifier) or by a Patient id
/// (<c>Patient/1</c>, <c>?subject=Patient/1</c>, <c>?patient=1</c>, a compartment), resolved to
/// the designated identifier through the patient grain (Hearth's own cached read of that Patient,
/// at most <see cref="MaxResolvedPatients"/> per request; a Patient that does not exist or cannot
/// be read is <c>"*"</c>, the same shape either way). A batch or transaction: each entry's type,
/// action and named patients, from its request line. What the request cannot tell (the patient of
/// <c>Observation/1</c>, any resource's labels) is <c>"*"</c>. When a token falls short, the
/// ticket names exactly what the refused resources needed.
/// </para>
/// </summary>
internal sealed class UmaTickets(HearthSettings settings, IGrainFactory grains, ReferenceResolver resolver)
{
    /// <summary>Patient ids one request may have resolved for its ticket (each is one cached read of a Patient).</summary>
    public const int MaxResolvedPatients = 5;

    public async Task<IReadOnlyList<JsonObject>> FromRequestAsync(HttpContext context, FhirRequest request, IEnumerable<KeyValuePair<string, StringValues>> parameters)
    {
        if (request.Interaction == FhirInteraction.BulkExport)
        {
            // As Pauldron Hearth registers an export: every requested type, any patient, any label.
            var types = QueryValues.Split(parameters.Where(p => p.Key == "_type").SelectMany(p => p.Value)).DefaultIfEmpty(null);
            return types.Select(t => PermissionRegistration.Permission(null, t, request.Action.Name(), labels: null)).ToList();
        }

        var budget = new Budget();
        if (request.IsBatch)
        {
            return await FromBatchAsync(context, budget) ?? [PermissionRegistration.Permission(null, null, "*", labels: null)];
        }

        return await FromRequestLineAsync(request, Named(parameters), budget);
    }

    public static IReadOnlyList<JsonObject> From(IEnumerable<RequiredPermission> unmet) => unmet.SelectMany(PermissionRegistration.From).ToList();

    /// <summary>The ticket, or null when the authorization server could not register the permissions.</summary>
    public Task<string?> RegisterAsync(IReadOnlyList<JsonObject> permissions)
        => grains.GetGrain<IPermissionTicketGrain>(0).RegisterAsync(PermissionRegistration.Serialize(permissions));

    private async Task<IReadOnlyList<JsonObject>> FromRequestLineAsync(FhirRequest request, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> parameters, Budget budget)
    {
        var (ids, identifiers) = RequestPatients.Named(request, parameters);
        var patients = new List<PatientIdentifier?>(identifiers);
        foreach (var id in ids)
        {
            patients.Add(budget.Take() ? await resolver.DesignatedAsync(id) : null);
        }

        if (patients.Count == 0)
        {
            patients.Add(null);
        }

        var type = request.Interaction is FhirInteraction.Operation or FhirInteraction.SearchSystem or FhirInteraction.HistorySystem
            ? null
            : request.ResourceType;
        return patients.Distinct().Select(p => PermissionRegistration.Permission(p, type, request.Action.Name(), labels: null)).ToList();
    }

    /// <summary>Each entry's permissions from its request line; null when the body is not a batch Hearth can read.</summary>
    private async Task<IReadOnlyList<JsonObject>?> FromBatchAsync(HttpContext context, Budget budget)
    {
        var body = await RequestBodies.BufferAsync(context, settings.Gateway.MaxRequestBytes);
        var isXml = System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type)
            && type.MediaType is { } mediaType && FormatNegotiation.Classify(mediaType) == FhirFormat.Xml;
        if (body is not null && isXml)
        {
            body = RequestBodies.XmlToJson(body, out _);
        }

        if (body is null || !FhirJson.IsValidUnicode(body) || FhirJson.TryParse(body) is not JsonObject bundle
            || bundle["entry"] is not JsonArray entries || entries.Count is 0 || entries.Count > settings.Gateway.MaxBatchEntries)
        {
            return null;
        }

        var publicBase = RequestState.PublicBaseOf(context, settings.Gateway);
        var permissions = new List<JsonObject>();
        foreach (var entry in entries)
        {
            if (BatchEntryRequest.Read(entry as JsonObject, publicBase, settings, out _) is not { } line)
            {
                return null; // an entry Hearth cannot read: the ticket cannot be exact
            }

            permissions.AddRange(await FromRequestLineAsync(line.Classified, line.Parameters, budget));
        }

        return permissions;
    }

    private static IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> Named(IEnumerable<KeyValuePair<string, StringValues>> parameters)
        => parameters.Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)p.Value.Select(v => v ?? "").ToList()));

    /// <summary>How many more Patient ids this request may resolve.</summary>
    private sealed class Budget
    {
        private int _left = MaxResolvedPatients;

        public bool Take() => _left-- > 0;
    }
}
