namespace Hearth.Authorization.Fhir;

/// <summary>
/// A patient as Hearth judges it: the designated identifier (what grants name, Pauldron's rule)
/// and every identifier the Patient has (a deny that names any of them excludes the person).
/// </summary>
public sealed record ResolvedPatient(PatientIdentifier Designated, IReadOnlyList<PatientIdentifier> Identifiers)
{
    /// <summary>
    /// The patient named by <paramref name="identifiers"/> (a Patient's identifiers with a value,
    /// in its order); null when there is none to designate it by.
    /// </summary>
    public static ResolvedPatient? From(IReadOnlyList<PatientIdentifier> identifiers, IReadOnlyList<string> designatedSystems)
        => PatientIdentifier.Choose(identifiers, designatedSystems) is { } designated ? new ResolvedPatient(designated, identifiers) : null;

    public bool Equals(ResolvedPatient? other) => other is not null && Designated == other.Designated && Identifiers.SequenceEqual(other.Identifiers);

    public override int GetHashCode() => Designated.GetHashCode();

    public override string ToString() => Designated.ToString();
}
