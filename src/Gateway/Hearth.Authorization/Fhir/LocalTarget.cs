namespace Hearth.Authorization.Fhir;

/// <summary>
/// In a transaction: what another entry's <c>fullUrl</c> stands for, the way the FHIR server
/// resolves it. A create's fullUrl is the resource it creates (its type, and a Patient's
/// identifiers); the fullUrl of an update, patch or delete is the <c>Type/id</c> it writes
/// (<see cref="Existing"/>); any other entry's, or one used by several entries, cannot be resolved
/// (<see cref="Ambiguous"/>).
/// </summary>
public sealed record LocalTarget(string? CreatedType, IReadOnlyList<PatientIdentifier>? CreatedPatient, string? Existing)
{
    public static LocalTarget Ambiguous { get; } = new(null, null, null);

    /// <summary>The target of a create entry's fullUrl: the resource it creates.</summary>
    public static LocalTarget Created(System.Text.Json.Nodes.JsonObject resource)
    {
        FhirElements.TryGetString(resource, "resourceType", out var type);
        return new LocalTarget(type, type == "Patient" ? FhirElements.Identifiers(resource) : null, null);
    }
}
