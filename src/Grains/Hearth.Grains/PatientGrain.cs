using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Grains.Abstractions;
using Hearth.Grains.Clients;
using Hearth.ServiceDefaults;

namespace Hearth.Grains;

/// <summary>
/// One Patient's identifiers, fetched from the FHIR server once per HEARTH_PATIENT_CACHE_SECONDS.
/// A Patient that does not exist is remembered for at most 30 s; a failed fetch is not remembered.
/// </summary>
[Orleans.Placement.RandomPlacement]
internal sealed class PatientGrain(FhirResourceClient client, HearthSettings settings, TimeProvider time) : Grain, IPatientGrain
{
    private static readonly TimeSpan NotFoundCache = TimeSpan.FromSeconds(30);
    private PatientLookup? _cached;
    private DateTimeOffset _cachedUntil;

    public async Task<PatientLookup> ResolveAsync()
    {
        var key = this.GetPrimaryKeyString();
        var prefix = settings.FhirServer.Base + "/Patient/";
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || !PatientReference.IsValidId(key[prefix.Length..]))
        {
            // Only Patients on the configured FHIR server are ever fetched.
            return new PatientLookup(PatientLookupStatus.NotFound, []);
        }

        var now = time.GetUtcNow();
        if (_cached is not null && now < _cachedUntil)
        {
            return _cached with { ValidUntil = _cachedUntil };
        }

        var lookup = await client.FetchPatientAsync(key, CancellationToken.None);
        HearthTelemetry.PatientFetches.Add(1, new KeyValuePair<string, object?>("result", lookup.Status switch
        {
            PatientLookupStatus.Found => "found",
            PatientLookupStatus.NotFound => "not-found",
            _ => "unavailable",
        }));
        now = time.GetUtcNow();
        switch (lookup.Status)
        {
            case PatientLookupStatus.Found:
                _cached = lookup;
                _cachedUntil = now + settings.Cluster.PatientCache;
                break;
            case PatientLookupStatus.NotFound:
                _cached = lookup;
                _cachedUntil = now + (settings.Cluster.PatientCache < NotFoundCache ? settings.Cluster.PatientCache : NotFoundCache);
                break;
            default:
                _cached = null;
                break;
        }

        return _cached is null ? lookup : lookup with { ValidUntil = _cachedUntil };
    }

    public Task<PatientLookup?> PeekAsync()
        => Task.FromResult(_cached is { Status: PatientLookupStatus.Found } && time.GetUtcNow() < _cachedUntil ? _cached : null);

    /// <summary>Forgets the Patient here and on every gateway (returns when they all have).</summary>
    public Task InvalidateAsync()
    {
        _cached = null;
        return GrainFactory.GetGrain<ICacheEventsGrain>(0).PublishAsync(new CacheChange(CacheChangeKind.PatientChanged, this.GetPrimaryKeyString()));
    }
}
