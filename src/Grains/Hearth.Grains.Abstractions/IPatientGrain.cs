namespace Hearth.Grains;

/// <summary>
/// Caches the identifiers of one Patient on the FHIR server for a TTL. Key: the absolute Patient
/// reference (<c>{FHIR_SERVER_BASE}/Patient/{id}</c>).
/// </summary>
[Alias("Hearth.IPatientGrain")]
public interface IPatientGrain : IGrainWithStringKey
{
    [Alias("Resolve")]
    Task<PatientLookup> ResolveAsync();

    [Alias("Invalidate")]
    Task InvalidateAsync();
}
