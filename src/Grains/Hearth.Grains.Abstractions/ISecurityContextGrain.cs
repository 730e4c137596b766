namespace Hearth.Grains.Abstractions;

/// <summary>
/// Caches what a Binary's <c>securityContext</c> stands for: the facts (patients, labels) of one
/// resource on the FHIR server, for a TTL, forgotten when the resource is written through Hearth.
/// Key: the absolute reference (<c>{FHIR_SERVER_BASE}/{type}/{id}</c>).
/// </summary>
[Alias("Hearth.ISecurityContextGrain")]
public interface ISecurityContextGrain : IGrainWithStringKey
{
    [Alias("Lookup")]
    Task<SecurityContextLookup> LookupAsync();

    [Alias("Invalidate")]
    Task InvalidateAsync();
}

[GenerateSerializer, Immutable, Alias("Hearth.SecurityLabelValue")]
public sealed record SecurityLabelValue([property: Id(0)] string? System, [property: Id(1)] string? Code);

/// <summary>
/// The facts of a security context resource, as its own judgement would use them: its type, its
/// labels (the highest confidentiality of it and what it embeds), the "Patient/{id}" references to
/// resolve, the identifiers of Patients that are part of it; <see cref="Unresolvable"/> when it
/// cannot be tied to patients Hearth can identify.
/// </summary>
[GenerateSerializer, Immutable, Alias("Hearth.SecurityContextLookup")]
public sealed record SecurityContextLookup(
    [property: Id(0)] PatientLookupStatus Status,
    [property: Id(1)] string ResourceType,
    [property: Id(2)] IReadOnlyList<SecurityLabelValue> Labels,
    [property: Id(3)] IReadOnlyList<string> PatientReferences,
    [property: Id(4)] IReadOnlyList<IReadOnlyList<PatientIdentifierValue>> InlinePatients,
    [property: Id(5)] bool Unresolvable)
{
    /// <summary>Until when the SecurityContextGrain holds this answer (null: not held): a gateway may keep it as long.</summary>
    [Id(6)]
    public DateTimeOffset? ValidUntil { get; init; }

    public static SecurityContextLookup Missing(PatientLookupStatus status) => new(status, "", [], [], [], true);
}
