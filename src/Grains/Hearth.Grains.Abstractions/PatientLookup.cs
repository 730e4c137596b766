namespace Hearth.Grains.Abstractions;

[GenerateSerializer]
[Alias("Hearth.PatientLookupStatus")]
public enum PatientLookupStatus
{
    Found = 0,

    /// <summary>The FHIR server says there is no such Patient (404/410).</summary>
    NotFound = 1,

    /// <summary>The FHIR server could not be asked or answered something else; nothing cached.</summary>
    Unavailable = 2,
}

[GenerateSerializer, Immutable, Alias("Hearth.PatientIdentifierValue")]
public sealed record PatientIdentifierValue([property: Id(0)] string? System, [property: Id(1)] string Value);

/// <summary>A Patient's identifiers, in the order the Patient lists them.</summary>
[GenerateSerializer, Immutable, Alias("Hearth.PatientLookup")]
public sealed record PatientLookup(
    [property: Id(0)] PatientLookupStatus Status,
    [property: Id(1)] IReadOnlyList<PatientIdentifierValue> Identifiers)
{
    /// <summary>Until when the PatientGrain holds this answer (null: not held): a gateway may keep it as long.</summary>
    [Id(2)]
    public DateTimeOffset? ValidUntil { get; init; }
}
