using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// Resolves what judging resources needs from the FHIR server, through grains: the patient each
/// "Patient/{id}" reference names (PatientGrain, one read per Patient per cluster and TTL), and the
/// facts of each resource a Binary names as its securityContext (SecurityContextGrain). Something
/// that does not exist resolves to null (its resource is denied); a FHIR server that cannot be
/// asked fails the whole answer. At most <see cref="MaxParallelLookups"/> lookups of one request
/// run at once.
/// </summary>
internal sealed class ReferenceResolver(HearthSettings settings, IGrainFactory grains)
{
    public const int MaxParallelLookups = 16;

    public async Task<ResolvedReferences> ResolveAsync(IEnumerable<ResourceFacts> facts, CancellationToken cancellationToken = default)
    {
        var all = facts as IReadOnlyCollection<ResourceFacts> ?? facts.ToList();
        var references = new HashSet<string>(StringComparer.Ordinal);
        var contextReferences = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in all)
        {
            references.UnionWith(f.PatientReferences);
            contextReferences.UnionWith(f.SecurityContexts);
        }

        Dictionary<string, ResourceFacts?>? contexts = null;
        if (contextReferences.Count > 0)
        {
            contexts = await LookupAsync(contextReferences.ToList(), async r => Facts(await ContextGrain(r).LookupAsync()), cancellationToken);
            foreach (var context in contexts.Values.OfType<ResourceFacts>())
            {
                references.UnionWith(context.PatientReferences);
            }
        }

        var patients = await LookupAsync(references.ToList(), async r => Patient(await PatientGrain(r).ResolveAsync()), cancellationToken);
        return ResolvedReferences.From(patients, contexts);
    }

    /// <summary>
    /// The designated identifier of Patient/{id}, through its grain (one cached read per Patient);
    /// null when it does not exist, has no identifier, or cannot be read: the caller asks for any patient then.
    /// </summary>
    public async Task<PatientIdentifier?> DesignatedAsync(string patientId)
    {
        if (!PatientReference.IsValidId(patientId))
        {
            return null;
        }

        var lookup = await PatientGrain("Patient/" + patientId).ResolveAsync();
        return lookup.Status == PatientLookupStatus.Found
            ? PatientIdentifier.Choose(lookup.Identifiers.Select(i => new PatientIdentifier(i.System, i.Value)).ToList(), settings.Rules.DesignatedPatientIdSystems)
            : null;
    }

    /// <summary>Forgets what is cached of a resource cluster-wide (after it was written): a Patient's identifiers, or a security context's facts.</summary>
    /// <param name="reference">"Type/{id}".</param>
    public Task InvalidateAsync(string reference)
        => reference.StartsWith("Patient/", StringComparison.Ordinal) ? PatientGrain(reference).InvalidateAsync() : ContextGrain(reference).InvalidateAsync();

    private ResolvedPatient? Patient(PatientLookup lookup) => lookup.Status switch
    {
        PatientLookupStatus.Found => ResolvedPatient.From(lookup.Identifiers.Select(i => new PatientIdentifier(i.System, i.Value)).ToList(), settings.Rules.DesignatedPatientIdSystems),
        PatientLookupStatus.NotFound => null,
        _ => throw new UpstreamException("The FHIR server could not be asked for the patients this request involves."),
    };

    private static ResourceFacts? Facts(SecurityContextLookup lookup)
    {
        switch (lookup.Status)
        {
            case PatientLookupStatus.NotFound:
                return null;
            case PatientLookupStatus.Found:
                var inline = lookup.InlinePatients.Select(p => (IReadOnlyList<PatientIdentifier>)p.Select(i => new PatientIdentifier(i.System, i.Value)).ToList()).ToList();
                var kind = lookup.Unresolvable ? PatientLinkKind.Unresolvable
                    : lookup.PatientReferences.Count > 0 || inline.Count > 0 ? PatientLinkKind.Patients
                    : PatientLinkKind.OutsideCompartment;
                return new ResourceFacts(lookup.ResourceType, lookup.Labels.Select(l => new SecurityLabel(l.System, l.Code)).ToList(), kind, lookup.PatientReferences, inline);
            default:
                throw new UpstreamException("The FHIR server could not be asked for the resource a Binary names as its security context.");
        }
    }

    private static async Task<Dictionary<string, T?>> LookupAsync<T>(IReadOnlyList<string> keys, Func<string, Task<T?>> lookup, CancellationToken cancellationToken)
        where T : class
    {
        var values = new T?[keys.Count];
        if (keys.Count <= MaxParallelLookups)
        {
            values = await Task.WhenAll(keys.Select(lookup));
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelLookups, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count), options, async (i, _) => values[i] = await lookup(keys[i]));
        }

        var result = new Dictionary<string, T?>(keys.Count, StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            result[keys[i]] = values[i];
        }

        return result;
    }

    private IPatientGrain PatientGrain(string reference) => grains.GetGrain<IPatientGrain>(settings.FhirServer.Base + "/" + reference);

    private ISecurityContextGrain ContextGrain(string reference) => grains.GetGrain<ISecurityContextGrain>(settings.FhirServer.Base + "/" + reference);
}
