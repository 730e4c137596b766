using Hearth.Authorization.Fhir;
using Hearth.Authorization.Policies;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// The Consent policy's part of resolution: each patient's active privacy Consents, through its
/// ConsentGrain (read as <see cref="ConsentDirective"/>s, kept in <see cref="GatewayCaches.Consents"/>
/// as long as the grain keeps them), and their invalidation when a Consent is written through Hearth.
/// </summary>
internal sealed partial class ReferenceResolver
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>> NoConsents = System.Collections.ObjectModel.ReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>>.Empty;

    /// <summary>The Consents already said to be unenforceable (each is logged once per gateway; bounded).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _unenforceable = new(StringComparer.Ordinal);

    /// <summary>
    /// With the Consent policy: the references, and the active privacy Consents of every patient
    /// the resources (and their parts) belong to, through the ConsentGrain of each (kept here as long
    /// as the grain keeps them, forgotten when a Consent of that patient is written through Hearth).
    /// </summary>
    /// <param name="warm">What <see cref="Cached"/> already found (null: the patients must be looked up).</param>
    private async Task<ResolvedReferences> WithConsentsAsync(IReadOnlyCollection<ResourceFacts> all, ResolvedReferences? warm, CancellationToken cancellationToken)
    {
        var resolved = warm ?? await LookupAllAsync(all, cancellationToken);
        var patients = all.SelectMany(ConsentDirective.PatientsOf).Distinct(StringComparer.Ordinal).ToList();
        var consents = patients.Count == 0 ? [] : await LookupAsync(patients, caches.Consents, async reference =>
        {
            var lookup = await grains.GetGrain<IConsentGrain>(settings.FhirServer.Base + "/" + reference).GetAsync();
            return lookup.Status == PatientLookupStatus.Found
                ? ((IReadOnlyList<ConsentDirective>?)lookup.Consents.Select(c => Directive(c, reference)).OfType<ConsentDirective>().ToList(), lookup.ValidUntil)
                : throw new UpstreamException("The FHIR server could not be asked for the Consents of the patients this request involves.");
        }, cancellationToken);
        return resolved.WithConsents(consents.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!, StringComparer.Ordinal),
            time.GetUtcNow(), RequestState.CurrentPolicyLedger);
    }

    /// <summary>The Consents of every patient of <paramref name="all"/> when this gateway holds them all; else null.</summary>
    private IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>>? CachedConsents(IReadOnlyCollection<ResourceFacts> all)
    {
        // By index, no LINQ: this runs for every warm request. Most name one patient: a one-entry map.
        SingleEntryMap<IReadOnlyList<ConsentDirective>>? single = null;
        Dictionary<string, IReadOnlyList<ConsentDirective>>? consents = null;
        foreach (var facts in all)
        {
            var parts = facts.Parts;
            for (var i = 0; i < Math.Max(parts.Count, 1); i++)
            {
                var part = parts.Count > 0 ? parts[i] : facts;
                for (var p = 0; p < ConsentDirective.PatientCount(part); p++)
                {
                    var patient = ConsentDirective.Patient(part, p);
                    if (single?.Key == patient || consents?.ContainsKey(patient) == true)
                    {
                        continue;
                    }

                    if (!caches.Consents.TryGet(patient, out var held) || held is null)
                    {
                        return null;
                    }

                    if (single is null)
                    {
                        single = new(patient, held);
                        continue;
                    }

                    consents ??= new(StringComparer.Ordinal) { [single.Key] = single.Value };
                    consents[patient] = held;
                }
            }
        }

        return consents ?? (IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>>?)single ?? NoConsents;
    }

    /// <summary>A Consent as rules; null for one that is not an active privacy Consent. One Hearth cannot read or enforce is logged once (it denies every resource of its patient).</summary>
    private ConsentDirective? Directive(string json, string patient)
    {
        var directive = ConsentDirective.Parse(json);
        if (directive?.Unsupported is { } why && logger is not null && _unenforceable.Count < GatewayCaches.MaxEntries && _unenforceable.TryAdd(directive.Id ?? patient, true))
        {
            LogUnenforceable(logger, directive.Id ?? "(no id)", patient, why);
        }

        return directive;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consent {ConsentId} of {Patient} cannot be enforced as written ({Reason}): every resource of that patient is denied")]
    private static partial void LogUnenforceable(ILogger logger, string consentId, string patient, string reason);

    /// <summary>Forgets a patient's Consents cluster-wide (a Consent of that patient was written through Hearth).</summary>
    /// <param name="patientReference">"Patient/{id}".</param>
    public Task InvalidateConsentsAsync(string patientReference)
    {
        var key = settings.FhirServer.Base + "/" + patientReference;
        caches.Apply(new CacheChange(CacheChangeKind.ConsentsChanged, key));
        return grains.GetGrain<IConsentGrain>(key).InvalidateAsync();
    }
}
