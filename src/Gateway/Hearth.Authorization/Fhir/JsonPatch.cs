using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// RFC 6902 JSON Patch applied to a copy of a resource, so that Hearth can judge what a PATCH
/// would produce before it is forwarded. Returns null (with a reason) when the patch is malformed
/// or cannot be applied: such a PATCH is refused, never forwarded.
/// </summary>
public static class JsonPatch
{
    public static JsonObject? Apply(JsonObject resource, ReadOnlyMemory<byte> patch, out string? error)
    {
        error = null;
        var operations = FhirJson.TryParse(patch.Span);
        if (operations is not JsonArray list)
        {
            error = operations is null ? "The patch is not JSON." : "A JSON Patch is an array of operations.";
            return null;
        }

        JsonNode document = resource.DeepClone();
        foreach (var item in list)
        {
            if (item is not JsonObject op || !ResourceInspector.TryGetString(op, "op", out var name) || !ResourceInspector.TryGetString(op, "path", out var path)
                || Pointer(path) is not { } segments)
            {
                error = "Each operation needs a string 'op' and a JSON Pointer 'path'.";
                return null;
            }

            var ok = name switch
            {
                "add" => op.ContainsKey("value") && Add(ref document, segments, op["value"]?.DeepClone()),
                "remove" => TryRemove(document, segments, out _),
                "replace" => op.ContainsKey("value") && TryRemove(document, segments, out _) && Add(ref document, segments, op["value"]?.DeepClone()),
                "move" => From(op) is { } from && !IsPrefix(from, segments) && TryRemove(document, from, out var moved) && Add(ref document, segments, moved),
                "copy" => From(op) is { } source && Get(document, source, out var copied) && Add(ref document, segments, copied?.DeepClone()),
                "test" => op.ContainsKey("value") && Get(document, segments, out var actual) && JsonNode.DeepEquals(actual, op["value"]),
                _ => false,
            };
            if (!ok)
            {
                error = $"The '{name}' operation at '{path}' cannot be applied.";
                return null;
            }
        }

        if (document is not JsonObject result)
        {
            error = "The patch does not leave a resource.";
            return null;
        }

        return result;
    }

    private static string[]? From(JsonObject op) => ResourceInspector.TryGetString(op, "from", out var from) ? Pointer(from) : null;

    /// <summary>RFC 6901: "" is the whole document, else "/a/b" with ~1 → '/' and ~0 → '~'.</summary>
    private static string[]? Pointer(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            return null;
        }

        return pointer[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
    }

    private static bool IsPrefix(string[] prefix, string[] path) => prefix.Length < path.Length && prefix.SequenceEqual(path.Take(prefix.Length));

    private static bool Get(JsonNode document, string[] path, out JsonNode? value)
    {
        value = document;
        foreach (var segment in path)
        {
            switch (value)
            {
                case JsonObject obj when obj.TryGetPropertyValue(segment, out var child):
                    value = child;
                    break;
                case JsonArray array when Index(segment, array.Count, allowEnd: false) is { } i:
                    value = array[i];
                    break;
                default:
                    value = null;
                    return false;
            }
        }

        return true;
    }

    private static bool Add(ref JsonNode document, string[] path, JsonNode? value)
    {
        if (path.Length == 0)
        {
            if (value is null)
            {
                return false;
            }

            document = value;
            return true;
        }

        if (!Get(document, path[..^1], out var parent))
        {
            return false;
        }

        var last = path[^1];
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                return true;
            case JsonArray array when Index(last, array.Count, allowEnd: true) is { } i:
                array.Insert(i, value);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Removes the value at <paramref name="path"/>; false when there is none (or it is the root).</summary>
    private static bool TryRemove(JsonNode document, string[] path, out JsonNode? value)
    {
        value = null;
        if (path.Length == 0 || !Get(document, path[..^1], out var parent))
        {
            return false;
        }

        var last = path[^1];
        switch (parent)
        {
            case JsonObject obj when obj.TryGetPropertyValue(last, out value):
                obj.Remove(last);
                return true;
            case JsonArray array when Index(last, array.Count, allowEnd: false) is { } i:
                value = array[i];
                array.RemoveAt(i);
                return true;
            default:
                return false;
        }
    }

    private static int? Index(string segment, int count, bool allowEnd)
    {
        if (allowEnd && segment == "-")
        {
            return count;
        }

        if (segment.Length == 0 || (segment.Length > 1 && segment[0] == '0') || !segment.All(char.IsAsciiDigit) || !int.TryParse(segment, out var i))
        {
            return null;
        }

        return i < count || (allowEnd && i == count) ? i : null;
    }
}
