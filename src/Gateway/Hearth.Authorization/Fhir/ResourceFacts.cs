namespace Hearth.Authorization.Fhir;

/// <summary>How a resource belongs to patients.</summary>
public enum PatientLinkKind
{
    /// <summary>A Patient resource: its own identifiers name it.</summary>
    Self,

    /// <summary>In the Patient compartment through the references in <see cref="ResourceFacts.PatientReferences"/>.</summary>
    References,

    /// <summary>Not in the Patient compartment (needs patientId "*").</summary>
    OutsideCompartment,

    /// <summary>Cannot be tied to patients Hearth can identify: denied.</summary>
    Unresolvable,
}

/// <summary>What authorization needs to know of one resource.</summary>
public sealed record ResourceFacts(
    string ResourceType,
    IReadOnlyList<SecurityLabel> Labels,
    PatientLinkKind PatientLink,
    IReadOnlyList<string> PatientReferences,
    IReadOnlyList<PatientIdentifier> SelfIdentifiers);
