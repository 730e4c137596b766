using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Grains;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Resolves "Patient/{id}" references to designated identifiers through the PatientGrains (one
/// fetch per Patient per cluster and TTL). A Patient that does not exist resolves to null (the
/// resource is denied); a FHIR server that cannot be asked fails the whole answer.
/// </summary>
internal sealed class PatientResolver(HearthSettings settings, IGrainFactory grains)
{
    /// <param name="references">"Patient/{id}" references, or urns of Patients in <paramref name="local"/>.</param>
    /// <param name="local">In a transaction: the entries' resources by urn fullUrl; such a Patient is named by its own identifiers.</param>
    public async Task<Dictionary<string, PatientIdentifier?>> ResolveAsync(IEnumerable<string> references, IReadOnlyDictionary<string, JsonObject>? local = null)
    {
        var all = references.Distinct(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, PatientIdentifier?>(all.Count, StringComparer.Ordinal);
        foreach (var urn in all.Where(r => local?.ContainsKey(r) == true))
        {
            result[urn] = PatientIdentifier.Choose(ResourceInspector.Identifiers(local![urn]), settings.DesignatedPatientIdSystems);
        }

        var distinct = all.Where(r => !result.ContainsKey(r)).ToArray();
        if (distinct.Length == 0)
        {
            return result;
        }

        var lookups = distinct.Select(async reference => (reference, lookup: await Grain(reference).ResolveAsync())).ToArray();
        foreach (var (reference, lookup) in await Task.WhenAll(lookups))
        {
            result[reference] = lookup.Status switch
            {
                PatientLookupStatus.Found => PatientIdentifier.Choose(
                    lookup.Identifiers.Select(i => new PatientIdentifier(i.System, i.Value)).ToList(), settings.DesignatedPatientIdSystems),
                PatientLookupStatus.NotFound => null,
                _ => throw new UpstreamException("The FHIR server could not be asked for the patients this request involves."),
            };
        }

        return result;
    }

    /// <summary>The designated identifier of Patient/{id} when a grain already holds it; never asks the FHIR server.</summary>
    public async Task<PatientIdentifier?> PeekAsync(string patientId)
    {
        if (!PatientReference.IsValidId(patientId) || await Grain("Patient/" + patientId).PeekAsync() is not { } lookup)
        {
            return null;
        }

        return PatientIdentifier.Choose(lookup.Identifiers.Select(i => new PatientIdentifier(i.System, i.Value)).ToList(), settings.DesignatedPatientIdSystems);
    }

    /// <summary>Forgets a Patient's cached identifiers cluster-wide (after it was written).</summary>
    /// <param name="reference">"Patient/{id}".</param>
    public Task InvalidateAsync(string reference) => Grain(reference).InvalidateAsync();

    private IPatientGrain Grain(string reference) => grains.GetGrain<IPatientGrain>(settings.FhirServerBase + "/" + reference);
}
