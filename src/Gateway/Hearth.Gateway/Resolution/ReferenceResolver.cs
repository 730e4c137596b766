using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// Resolves what judging resources needs from the FHIR server, through grains: the patient each
/// "Patient/{id}" reference names (PatientGrain, one read per Patient per cluster and TTL), and the
/// facts of each resource a Binary names as its securityContext (SecurityContextGrain). Something
/// that does not exist resolves to null (its resource is denied); a FHIR server that cannot be
/// asked fails the whole answer. At most <see cref="MaxParallelLookups"/> lookups of one request
/// run at once. What a grain answered is kept in the gateway as long as the grain keeps it
/// (<see cref="GatewayCaches"/>): a warm request makes no grain call.
/// </summary>
internal sealed partial class ReferenceResolver(HearthSettings settings, IGrainFactory grains, GatewayCaches caches, TimeProvider time, ILogger<ReferenceResolver>? logger = null)
{

    public const int MaxParallelLookups = 16;

    public ValueTask<ResolvedReferences> ResolveAsync(IEnumerable<ResourceFacts> facts, CancellationToken cancellationToken = default)
    {
        var all = facts as IReadOnlyCollection<ResourceFacts> ?? facts.ToList();
        if (settings.Rules.ConsentPolicy)
        {
            // Warm: every patient and every patient's Consents already here, no task made.
            var warm = Cached(all);
            return warm is not null && CachedConsents(all) is { } consents
                ? ValueTask.FromResult(warm.WithConsents(consents, time.GetUtcNow(), RequestState.CurrentPolicyLedger))
                : new ValueTask<ResolvedReferences>(WithConsentsAsync(all, warm, cancellationToken));
        }

        return Cached(all) is { } cached ? ValueTask.FromResult(cached) : new ValueTask<ResolvedReferences>(LookupAllAsync(all, cancellationToken));
    }

    /// <summary>
    /// The warm path: every patient reference already in this gateway's cache, and no security
    /// context to look up. Null when anything must be asked.
    /// </summary>
    private ResolvedReferences? Cached(IReadOnlyCollection<ResourceFacts> all)
    {
        // Most answers name one patient: a one-entry map, not a hash table.
        SingleEntryMap<ResolvedPatient?>? single = null;
        Dictionary<string, ResolvedPatient?>? patients = null;
        foreach (var f in all)
        {
            if (f.SecurityContexts.Count > 0)
            {
                return null;
            }

            foreach (var reference in f.PatientReferences)
            {
                if (single?.Key == reference || patients?.ContainsKey(reference) == true)
                {
                    continue;
                }

                if (!caches.Patients.TryGet(reference, out var patient))
                {
                    return null;
                }

                if (single is null && patients is null)
                {
                    single = new SingleEntryMap<ResolvedPatient?>(reference, patient);
                    continue;
                }

                patients ??= new(StringComparer.Ordinal) { [single!.Key] = single.Value };
                patients[reference] = patient;
            }
        }

        Count(HearthTelemetry.PatientCache, patients?.Count ?? (single is null ? 0 : 1), 0);

        return patients is not null ? ResolvedReferences.From(patients) : single is not null ? ResolvedReferences.From(single) : ResolvedReferences.None;
    }

    private async Task<ResolvedReferences> LookupAllAsync(IReadOnlyCollection<ResourceFacts> all, CancellationToken cancellationToken)
    {
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
            contexts = await LookupAsync(contextReferences.ToList(), caches.Contexts, async reference =>
            {
                var lookup = await ContextGrain(reference).LookupAsync();
                return (Facts(lookup), lookup.ValidUntil);
            }, cancellationToken);
            foreach (var context in contexts.Values.OfType<ResourceFacts>())
            {
                references.UnionWith(context.PatientReferences);
            }
        }

        var patients = await LookupAsync(references.ToList(), caches.Patients, async reference =>
        {
            var lookup = await PatientGrain(reference).ResolveAsync();
            return (Patient(lookup) is { } patient ? patient with { Reference = reference } : null, lookup.ValidUntil);
        }, cancellationToken, HearthTelemetry.PatientCache);
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
    {
        // Here at once (even if this gateway's subscription lapsed); the grain tells every gateway.
        var patient = reference.StartsWith("Patient/", StringComparison.Ordinal);
        caches.Apply(new CacheChange(patient ? CacheChangeKind.PatientChanged : CacheChangeKind.SecurityContextChanged, settings.FhirServer.Base + "/" + reference));
        return patient ? PatientGrain(reference).InvalidateAsync() : ContextGrain(reference).InvalidateAsync();
    }

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

    /// <summary>
    /// The value of each reference: from this gateway's cache, else from its grain (at most
    /// <see cref="MaxParallelLookups"/> at once), kept here as long as the grain said.
    /// </summary>
    private static async Task<Dictionary<string, T?>> LookupAsync<T>(
        IReadOnlyList<string> references, LocalCache<T?> cache, Func<string, Task<(T? Value, DateTimeOffset? Until)>> lookup, CancellationToken cancellationToken,
        System.Diagnostics.Metrics.Counter<long>? counted = null)
        where T : class
    {
        var result = new Dictionary<string, T?>(references.Count, StringComparer.Ordinal);
        List<string>? missing = null;
        foreach (var reference in references)
        {
            if (cache.TryGet(reference, out var value))
            {
                result[reference] = value;
            }
            else
            {
                (missing ??= []).Add(reference);
            }
        }

        if (counted is not null)
        {
            Count(counted, references.Count - (missing?.Count ?? 0), missing?.Count ?? 0);
        }

        if (missing is null)
        {
            return result;
        }

        var generation = cache.Generation;
        var values = new (T? Value, DateTimeOffset? Until)[missing.Count];
        if (missing.Count <= MaxParallelLookups)
        {
            values = await Task.WhenAll(missing.Select(lookup));
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelLookups, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, missing.Count), options, async (i, _) => values[i] = await lookup(missing[i]));
        }

        for (var i = 0; i < missing.Count; i++)
        {
            result[missing[i]] = values[i].Value;
            cache.Set(missing[i], values[i].Value, values[i].Until, generation);
        }

        return result;
    }

    private static void Count(System.Diagnostics.Metrics.Counter<long> counter, int hits, int misses)
    {
        if (hits > 0)
        {
            counter.Add(hits, new KeyValuePair<string, object?>("result", "hit"));
        }

        if (misses > 0)
        {
            counter.Add(misses, new KeyValuePair<string, object?>("result", "miss"));
        }
    }

    private IPatientGrain PatientGrain(string reference) => grains.GetGrain<IPatientGrain>(settings.FhirServer.Base + "/" + reference);

    private ISecurityContextGrain ContextGrain(string reference) => grains.GetGrain<ISecurityContextGrain>(settings.FhirServer.Base + "/" + reference);
}
