namespace Hearth.Authorization.Fhir;

/// <summary>How a resource belongs to patients.</summary>
public enum PatientLinkKind
{
    /// <summary>It belongs to patients: <see cref="ResourceFacts.PatientReferences"/> and/or <see cref="ResourceFacts.InlinePatients"/>.</summary>
    Patients,

    /// <summary>Not in the Patient compartment (needs patientId "*").</summary>
    OutsideCompartment,

    /// <summary>Cannot be tied to patients Hearth can identify: denied.</summary>
    Unresolvable,
}

/// <summary>
/// What authorization needs to know of one resource, together with every resource embedded in it
/// (<c>contained</c>, <c>Bundle.entry.resource</c> and <c>.response.outcome</c>, <c>Parameters</c>
/// resources): their patients count for it, its confidentiality is the highest of theirs, and it
/// is unresolvable when any of them is.
/// </summary>
/// <param name="ResourceType">The resource's type.</param>
/// <param name="Labels">Its security labels in the designated systems; the v3-Confidentiality ones reduced to the highest.</param>
/// <param name="PatientLink">How it belongs to patients.</param>
/// <param name="PatientReferences">"Patient/{id}" references on the FHIR server to resolve.</param>
/// <param name="InlinePatients">The identifiers of the Patients that are part of it (itself, contained, embedded, created in the same transaction).</param>
public sealed record ResourceFacts(
    string ResourceType,
    IReadOnlyList<SecurityLabel> Labels,
    PatientLinkKind PatientLink,
    IReadOnlyList<string> PatientReferences,
    IReadOnlyList<IReadOnlyList<PatientIdentifier>> InlinePatients)
{
    /// <summary>"Type/id" of resources on the FHIR server that stand in for a Binary's security (<c>Binary.securityContext</c>): their patients and labels count.</summary>
    public IReadOnlyList<string> SecurityContexts { get; init; } = [];

    /// <summary>
    /// The resource itself and each embedded resource, with its own labels and patients, when it
    /// has any embedded resource (or more than one confidentiality label): a deny that overlaps
    /// any part denies the whole. Empty when the facts above are the only part.
    /// </summary>
    public IReadOnlyList<ResourceFacts> Parts { get; init; } = [];

    /// <summary>
    /// For a Patient on the FHIR server (not contained): "Patient/{its id}"; its identifiers are
    /// the first of <see cref="InlinePatients"/>. What SMART <c>patient/</c> scopes bind a Patient by.
    /// </summary>
    public string? SelfReference { get; init; }

    /// <summary>The resource these facts were read from (null when they came another way): what granular SMART scopes are evaluated on.</summary>
    public System.Text.Json.Nodes.JsonObject? Resource
    {
        // Read from a parsed document: a node over it is made only when a scope's condition asks (most judgements never do).
        get => field ??= Element is { } element ? System.Text.Json.Nodes.JsonObject.Create(element) : null;
        init;
    }

    /// <summary>The parsed element these facts were read from, while its document lives (see <see cref="ElementInspector"/>).</summary>
    internal System.Text.Json.JsonElement? Element { get; init; }
}
