using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// What one resource needs: its patients (null when the resource is outside the Patient
/// compartment), its type, the action, and its security labels (already filtered to the
/// designated systems, with the default confidentiality added where it has none).
/// </summary>
public sealed record RequiredPermission(
    IReadOnlyList<ResolvedPatient>? Patients,
    string ResourceType,
    FhirAction Action,
    IReadOnlyList<SecurityLabel> Labels)
{
    /// <summary>The resource itself, when known: what a granular SMART scope's conditions are evaluated on.</summary>
    public System.Text.Json.Nodes.JsonObject? Resource
    {
        get => field ?? Facts?.Resource; // a node over the parsed resource only when a scope's condition asks
        init;
    }

    /// <summary>The facts this requirement was made from, when it was.</summary>
    internal Hearth.Authorization.Fhir.ResourceFacts? Facts { get; init; }
}
