using System.Text.Json;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// What Hearth knows of the FHIR R4 model: the resource type names and the Patient compartment
/// (the element paths through which a resource of each type belongs to a patient). Generated
/// from HL7 spec data by Resources/generate-compartment.py.
/// </summary>
public sealed class FhirModel
{
    public static FhirModel R4 { get; } = Load();

    private readonly HashSet<string> _resourceTypes;
    private readonly Dictionary<string, string[][]> _patientPaths;

    private FhirModel(HashSet<string> resourceTypes, Dictionary<string, string[][]> patientPaths)
    {
        _resourceTypes = resourceTypes;
        _patientPaths = patientPaths;
    }

    public IReadOnlyCollection<string> ResourceTypes => _resourceTypes;

    public bool IsResourceType(string name) => _resourceTypes.Contains(name);

    /// <summary>
    /// The element paths (each split at dots) that put a resource of <paramref name="resourceType"/>
    /// in a patient's compartment; null when the type is not in the Patient compartment.
    /// Patient itself returns an empty list: a Patient is its own patient.
    /// </summary>
    public IReadOnlyList<string[]>? PatientCompartmentPaths(string resourceType)
    {
        if (resourceType == "Patient")
        {
            return [];
        }

        return _patientPaths.TryGetValue(resourceType, out var paths) ? paths : null;
    }

    private static FhirModel Load()
    {
        using var stream = typeof(FhirModel).Assembly.GetManifestResourceStream("Hearth.Authorization.compartmentdefinition-patient.json")
            ?? throw new InvalidOperationException("The embedded Patient compartment definition is missing.");
        using var doc = JsonDocument.Parse(stream);
        var types = doc.RootElement.GetProperty("resourceTypes").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        var paths = new Dictionary<string, string[][]>(StringComparer.Ordinal);
        foreach (var property in doc.RootElement.GetProperty("patientCompartment").EnumerateObject())
        {
            paths[property.Name] = property.Value.EnumerateArray().Select(p => p.GetString()!.Split('.')).ToArray();
        }

        return new FhirModel(types, paths);
    }
}
