using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Grains.Abstractions;
using Hearth.Grains.Clients;

namespace Hearth.Grains;

/// <summary>
/// The facts of one resource that Binaries name as their securityContext, read from the FHIR
/// server once per HEARTH_PATIENT_CACHE_SECONDS. A resource that does not exist is remembered for
/// at most 30 s; a failed read is not remembered.
/// </summary>
[Orleans.Placement.RandomPlacement]
[CollectionAgeLimit(Minutes = 2)]
internal sealed class SecurityContextGrain(FhirResourceClient client, HearthSettings settings, TimeProvider time) : Grain, ISecurityContextGrain
{
    private static readonly TimeSpan NotFoundCache = TimeSpan.FromSeconds(30);
    private SecurityContextLookup? _cached;
    private DateTimeOffset _cachedUntil;

    public async Task<SecurityContextLookup> LookupAsync()
    {
        var key = this.GetPrimaryKeyString();
        if (!key.StartsWith(settings.FhirServer.Base + "/", StringComparison.Ordinal)
            || !PatientReference.TryRelative(key[(settings.FhirServer.Base.Length + 1)..], settings.FhirServer.Base, out var type, out _))
        {
            // Only resources on the configured FHIR server are ever read.
            return SecurityContextLookup.Missing(PatientLookupStatus.NotFound);
        }

        if (_cached is not null && time.GetUtcNow() < _cachedUntil)
        {
            return _cached with { ValidUntil = _cachedUntil };
        }

        var lookup = await client.FetchContextAsync(key, type, CancellationToken.None);
        var now = time.GetUtcNow();
        (_cached, _cachedUntil) = lookup.Status switch
        {
            PatientLookupStatus.Found => (lookup, now + settings.Cluster.PatientCache),
            PatientLookupStatus.NotFound => (lookup, now + (settings.Cluster.PatientCache < NotFoundCache ? settings.Cluster.PatientCache : NotFoundCache)),
            _ => ((SecurityContextLookup?)null, now),
        };
        return _cached is null ? lookup : lookup with { ValidUntil = _cachedUntil };
    }

    /// <summary>Forgets the resource's facts here and on every gateway (returns when they all have).</summary>
    public Task InvalidateAsync()
    {
        _cached = null;
        return GrainFactory.GetGrain<ICacheEventsGrain>(0).PublishAsync(new CacheChange(CacheChangeKind.SecurityContextChanged, this.GetPrimaryKeyString()));
    }
}
