using System.Text.Json;

namespace Hearth.Authorization.Fhir;

/// <summary>How Hearth reads JSON it must judge: strictly (a duplicated property could make two readers disagree).</summary>
public static class FhirJson
{
    public static JsonDocumentOptions DocumentOptions { get; } = new() { AllowDuplicateProperties = false, MaxDepth = 128 };
}
