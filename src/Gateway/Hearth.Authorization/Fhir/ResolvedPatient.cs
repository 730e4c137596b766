namespace Hearth.Authorization.Fhir;

/// <summary>
/// A patient as Hearth judges it: the designated identifier (what Pauldron grants name), every
/// identifier the Patient has (a deny that names any of them excludes the person), and the
/// "Patient/{id}" it is on the FHIR server (what SMART <c>patient/</c> scopes bind to). A patient
/// known only by its reference (no identifiers, or its Patient could not be read) has no
/// <see cref="Designated"/>: no Pauldron grant covers it, and a Pauldron deny of a particular
/// patient cannot rule it out.
/// </summary>
public sealed record ResolvedPatient(PatientIdentifier? Designated, IReadOnlyList<PatientIdentifier> Identifiers)
{
    /// <summary>"Patient/{id}" on the FHIR server; null for a Patient that is not (contained, or created in the same transaction).</summary>
    public string? Reference { get; init; }

    /// <summary>
    /// The patient named by <paramref name="identifiers"/> (a Patient's identifiers with a value,
    /// in its order); null when there is none to designate it by.
    /// </summary>
    public static ResolvedPatient? From(IReadOnlyList<PatientIdentifier> identifiers, IReadOnlyList<string> designatedSystems)
        => PatientIdentifier.Choose(identifiers, designatedSystems) is { } designated ? new ResolvedPatient(designated, identifiers) : null;

    /// <summary>A Patient on the FHIR server known only by its reference.</summary>
    public static ResolvedPatient ReferenceOnly(string reference) => new(null, []) { Reference = reference };

    public bool Equals(ResolvedPatient? other)
        => other is not null && Designated == other.Designated && Reference == other.Reference && Identifiers.SequenceEqual(other.Identifiers);

    public override int GetHashCode() => HashCode.Combine(Designated, Reference);

    public override string ToString() => Designated?.ToString() ?? Reference ?? "unknown patient";
}
