using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// Reading FHIR JSON elements as they are, never trusting their shape: strings that may be absent
/// or of another type, resources, identifiers, paths through arrays.
/// </summary>
public static class FhirElements
{
    /// <summary>A Patient's identifiers that have a value, in the order it lists them.</summary>
    public static List<PatientIdentifier> Identifiers(JsonObject patient)
    {
        var result = new List<PatientIdentifier>();
        if (patient["identifier"] is JsonArray identifiers)
        {
            foreach (var identifier in identifiers.OfType<JsonObject>())
            {
                if (TryGetString(identifier, "value", out var value) && value.Length > 0)
                {
                    TryGetString(identifier, "system", out var system);
                    result.Add(new PatientIdentifier(system, value));
                }
            }
        }

        return result;
    }

    /// <summary>The member's value, when it is a JSON string.</summary>
    public static bool TryGetString(JsonObject obj, string name, out string value)
    {
        if (obj[name] is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>True when the member is absent or a string (its value, else null); false for any other JSON value.</summary>
    public static bool OptionalString(JsonObject obj, string name, out string? value)
    {
        value = null;
        if (!obj.TryGetPropertyValue(name, out var node))
        {
            return true;
        }

        if (node is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        return false;
    }

    /// <summary>True when <paramref name="node"/> is a JSON object with a FHIR R4 resourceType.</summary>
    public static bool IsResource(JsonNode? node, out JsonObject resource, out string type)
    {
        resource = null!;
        type = "";
        if (node is not JsonObject obj || !TryGetString(obj, "resourceType", out type) || !FhirModel.R4.IsResourceType(type))
        {
            return false;
        }

        resource = obj;
        return true;
    }

    /// <summary>
    /// The values found along <paramref name="path"/> (arrays are flattened once); null for a value
    /// of the wrong shape (a string or number where an element belongs, an array in an array).
    /// </summary>
    public static IEnumerable<JsonObject?> Follow(JsonNode? node, string[] path, int index, bool inArray = false)
    {
        switch (node)
        {
            case null:
                yield break;
            case JsonArray when inArray:
                yield return null;
                yield break;
            case JsonArray array:
                foreach (var item in array)
                {
                    foreach (var found in Follow(item, path, index, inArray: true))
                    {
                        yield return found;
                    }
                }

                yield break;
            case JsonObject obj when index == path.Length:
                yield return obj;
                yield break;
            case JsonObject obj:
                foreach (var found in Follow(obj[path[index]], path, index + 1))
                {
                    yield return found;
                }

                yield break;
            default:
                yield return null;
                yield break;
        }
    }

    /// <summary>The resourceType of the contained resource with id <paramref name="id"/>; null when there is none.</summary>
    public static string? ContainedType(JsonArray? contained, string id)
    {
        foreach (var item in contained ?? [])
        {
            if (item is JsonObject resource && TryGetString(resource, "id", out var cid) && cid == id && TryGetString(resource, "resourceType", out var type))
            {
                return type;
            }
        }

        return null;
    }
}
