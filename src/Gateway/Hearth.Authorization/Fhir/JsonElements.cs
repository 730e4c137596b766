using System.Text.Json;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// <see cref="FhirElements"/> over a parsed <see cref="JsonElement"/> (no tree of nodes made): a
/// JSON <c>null</c> counts as absent, exactly as a node reader sees it.
/// </summary>
internal static class JsonElements
{
    /// <summary>The member <paramref name="name"/> when present and not JSON null.</summary>
    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
        => obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public static bool TryGetString(JsonElement obj, string name, out string value)
    {
        if (obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String)
        {
            value = Utf8Strings.Get(v);
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>True when absent (value null) or a string; false when present as anything else (JSON null included).</summary>
    public static bool OptionalString(JsonElement obj, string name, out string? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var v))
        {
            return true;
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            value = Utf8Strings.Get(v);
            return true;
        }

        return false;
    }

    public static bool IsResource(JsonElement element, out string type)
    {
        type = "";
        return element.ValueKind == JsonValueKind.Object && TryGetString(element, "resourceType", out type) && FhirModel.R4.IsResourceType(type);
    }

    public static List<PatientIdentifier> Identifiers(JsonElement patient)
    {
        var result = new List<PatientIdentifier>();
        if (TryGet(patient, "identifier", out var identifiers) && identifiers.ValueKind == JsonValueKind.Array)
        {
            foreach (var identifier in identifiers.EnumerateArray())
            {
                if (identifier.ValueKind == JsonValueKind.Object && TryGetString(identifier, "value", out var value) && value.Length > 0)
                {
                    TryGetString(identifier, "system", out var system);
                    result.Add(new PatientIdentifier(system, value));
                }
            }
        }

        return result;
    }

    /// <summary>As <see cref="FhirElements.Follow"/>: each object at the path; a non-object (or an array in an array) where an element should be yields null.</summary>
    public static void Follow(JsonElement? node, string[] path, int index, List<JsonElement?> found, bool inArray = false)
    {
        if (node is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Array when inArray:
                found.Add(null);
                return;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Follow(item, path, index, found, inArray: true);
                }

                return;
            case JsonValueKind.Object when index == path.Length:
                found.Add(element);
                return;
            case JsonValueKind.Object:
                Follow(element.TryGetProperty(path[index], out var next) ? next : null, path, index + 1, found);
                return;
            default:
                found.Add(null);
                return;
        }
    }

    public static string? ContainedType(JsonElement? contained, string id)
    {
        if (contained is not { ValueKind: JsonValueKind.Array } list)
        {
            return null;
        }

        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && TryGetString(item, "id", out var cid) && cid == id && TryGetString(item, "resourceType", out var type))
            {
                return type;
            }
        }

        return null;
    }
}
