using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>How Hearth reads JSON it must judge: strictly (a duplicated property could make two readers disagree).</summary>
public static class FhirJson
{
    public static JsonDocumentOptions DocumentOptions { get; } = new() { AllowDuplicateProperties = false, MaxDepth = 128 };

    /// <summary>Reads JSON strictly; null when it is not JSON (or breaks the rules above).</summary>
    public static JsonNode? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonNode.Parse(utf8, documentOptions: DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte})"/>
    public static JsonNode? TryParse(string json)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null;
        }
    }
}
