using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Grains.Abstractions;
using Hearth.Grains.Clients;

namespace Hearth.Grains;

/// <summary>
/// One patient's active privacy Consents, fetched from the FHIR server once per
/// HEARTH_PATIENT_CACHE_SECONDS (as a Patient is); a failed fetch is not remembered. Forgotten here
/// and on every gateway when a Consent of the patient is written through Hearth.
/// </summary>
[Orleans.Placement.RandomPlacement]
internal sealed class ConsentGrain(FhirResourceClient client, HearthSettings settings, TimeProvider time) : Grain, IConsentGrain
{
    private ConsentLookup? _cached;
    private DateTimeOffset _cachedUntil;

    public async Task<ConsentLookup> GetAsync()
    {
        var key = this.GetPrimaryKeyString();
        var prefix = settings.FhirServer.Base + "/Patient/";
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || !PatientReference.IsValidId(key[prefix.Length..]))
        {
            return new ConsentLookup(PatientLookupStatus.Unavailable, []); // only Patients of the configured FHIR server have Consents Hearth reads
        }

        var now = time.GetUtcNow();
        if (_cached is not null && now < _cachedUntil)
        {
            return _cached with { ValidUntil = _cachedUntil };
        }

        var lookup = await client.FetchConsentsAsync(key, CancellationToken.None);
        if (lookup.Status != PatientLookupStatus.Found)
        {
            _cached = null;
            return lookup;
        }

        _cached = lookup;
        _cachedUntil = time.GetUtcNow() + settings.Cluster.PatientCache;
        return lookup with { ValidUntil = _cachedUntil };
    }

    /// <summary>Forgets the Consents here and on every gateway (returns when they all have).</summary>
    public Task InvalidateAsync()
    {
        _cached = null;
        return GrainFactory.GetGrain<ICacheEventsGrain>(0).PublishAsync(new CacheChange(CacheChangeKind.ConsentsChanged, this.GetPrimaryKeyString()));
    }
}
