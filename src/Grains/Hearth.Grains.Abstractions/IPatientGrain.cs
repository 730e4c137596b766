namespace Hearth.Grains.Abstractions;

/// <summary>
/// Caches the identifiers of one Patient on the FHIR server for a TTL. Key: the absolute Patient
/// reference (<c>{FHIR_SERVER_BASE}/Patient/{id}</c>).
/// </summary>
[Alias("Hearth.IPatientGrain")]
public interface IPatientGrain : IGrainWithStringKey
{
    [Alias("Resolve")]
    Task<PatientLookup> ResolveAsync();

    /// <summary>The cached identifiers when this grain holds a fresh resolution; never asks the FHIR server.</summary>
    [Alias("Peek")]
    Task<PatientLookup?> PeekAsync();

    [Alias("Invalidate")]
    Task InvalidateAsync();
}
