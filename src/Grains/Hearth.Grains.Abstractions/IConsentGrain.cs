namespace Hearth.Grains.Abstractions;

/// <summary>
/// Caches one patient's active privacy Consents on the FHIR server for a TTL (as a Patient is
/// cached), forgotten cluster-wide when a Consent of that patient is written through Hearth. Key:
/// the absolute Patient reference (<c>{FHIR_SERVER_BASE}/Patient/{id}</c>).
/// </summary>
[Alias("Hearth.IConsentGrain")]
public interface IConsentGrain : IGrainWithStringKey
{
    [Alias("Get")]
    Task<ConsentLookup> GetAsync();

    [Alias("Invalidate")]
    Task InvalidateAsync();
}

/// <summary>A patient's Consents (scope patient-privacy, status active) as FHIR JSON, as the FHIR server listed them.</summary>
[GenerateSerializer, Immutable, Alias("Hearth.ConsentLookup")]
public sealed record ConsentLookup(
    [property: Id(0)] PatientLookupStatus Status,
    [property: Id(1)] IReadOnlyList<string> Consents)
{
    /// <summary>Until when the ConsentGrain holds this answer (null: not held): a gateway may keep it as long.</summary>
    [Id(2)]
    public DateTimeOffset? ValidUntil { get; init; }
}
