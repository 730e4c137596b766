using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Caching;

/// <summary>
/// What this gateway keeps so that a warm request makes no grain call: introspected tokens' parsed
/// grants (by token hash), resolved Patients and Binary security contexts (by absolute reference).
/// Each entry lives no longer than the grain's own (so never past a token's exp), and is forgotten
/// as soon as the cluster announces a change (<see cref="ICacheEventsGrain"/>). While this gateway is
/// not subscribed to those announcements (<see cref="Live"/> false), nothing is served from here.
/// </summary>
internal sealed class GatewayCaches : IDisposable
{
    /// <summary>Entries per cache; beyond, new entries are not kept (and the grains answer).</summary>
    public const int MaxEntries = 100_000;

    private readonly TimeProvider _time;
    private readonly string _fhirBase;
    private long _generation;
    private long _liveUntilTicks;

    public GatewayCaches(HearthSettings settings, TimeProvider time)
    {
        _time = time;
        _fhirBase = settings.FhirServer.Base + "/";
        Grants = new LocalCache<Principal>(this, MaxEntries, time);
        Patients = new LocalCache<ResolvedPatient?>(this, MaxEntries, time);
        Contexts = new LocalCache<ResourceFacts?>(this, MaxEntries, time);
        Consents = new LocalCache<IReadOnlyList<Hearth.Authorization.Policies.ConsentDirective>?>(this, MaxEntries, time);
    }

    /// <summary>Patients' active privacy Consents, read (key: "Patient/{id}" on the FHIR server).</summary>
    public LocalCache<IReadOnlyList<Hearth.Authorization.Policies.ConsentDirective>?> Consents { get; }

    /// <summary>Introspected tokens (key: token hash).</summary>
    public LocalCache<Principal> Grants { get; }

    /// <summary>Patients (key: "Patient/{id}" on the FHIR server); null: no such Patient.</summary>
    public LocalCache<ResolvedPatient?> Patients { get; }

    /// <summary>Binary security contexts (key: "{type}/{id}" on the FHIR server); null: no such resource.</summary>
    public LocalCache<ResourceFacts?> Contexts { get; }

    /// <summary>Counts announced changes: read before a grain call, passed to <see cref="LocalCache{T}.Set"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Subscribed to the cluster's announcements recently enough that none can have been missed.</summary>
    public bool Live => _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _liveUntilTicks);

    /// <summary>The subscription was renewed: entries may be served until <paramref name="until"/>.</summary>
    public void LiveUntil(DateTimeOffset until) => Interlocked.Exchange(ref _liveUntilTicks, until.UtcTicks);

    /// <summary>Forgets what <paramref name="change"/> names.</summary>
    public void Apply(CacheChange change)
    {
        Interlocked.Increment(ref _generation);
        switch (change.Kind)
        {
            case CacheChangeKind.TokenEvicted:
                Grants.Remove(change.Key);
                break;
            case CacheChangeKind.PatientChanged:
                Patients.Remove(Relative(change.Key));
                break;
            case CacheChangeKind.SecurityContextChanged:
                Contexts.Remove(Relative(change.Key));
                break;
            case CacheChangeKind.ConsentsChanged:
                Consents.Remove(Relative(change.Key));
                break;
        }
    }

    /// <summary>Forgets everything and serves nothing until subscribed again (announcements may have been missed).</summary>
    public void Clear()
    {
        Interlocked.Exchange(ref _liveUntilTicks, 0);
        Interlocked.Increment(ref _generation);
        Grants.Clear();
        Patients.Clear();
        Contexts.Clear();
        Consents.Clear();
    }

    /// <summary>A grain's key (an absolute reference on the FHIR server) as the caches' key.</summary>
    private string Relative(string grainKey) => grainKey.StartsWith(_fhirBase, StringComparison.Ordinal) ? grainKey[_fhirBase.Length..] : grainKey;

    public void Dispose()
    {
        Grants.Dispose();
        Patients.Dispose();
        Contexts.Dispose();
        Consents.Dispose();
    }
}
