using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// RFC 6902 JSON Patch applied to a copy of a resource, so that Hearth can judge what a PATCH
/// would produce before it is forwarded. <see cref="Parse"/> checks the patch alone (its shape and
/// at most <see cref="MaxOperations"/> operations) without looking at any stored data;
/// <see cref="Apply(JsonObject, long, out string?)"/> then applies it, refusing as soon as the
/// result would grow past the given size (a <c>copy</c> can double a resource each time). A patch
/// that is malformed or cannot be applied is refused, never forwarded.
/// </summary>
public sealed class JsonPatch
{
    public const int MaxOperations = 100;

    private static readonly HashSet<string> Names = ["add", "remove", "replace", "move", "copy", "test"];

    private readonly IReadOnlyList<Operation> _operations;

    private JsonPatch(IReadOnlyList<Operation> operations) => _operations = operations;

    private sealed record Operation(string Name, string Path, string[] Segments, string[]? From, JsonNode? Value, bool HasValue);

    /// <summary>The patch, or null with the reason when it is not a well-formed JSON Patch Hearth applies.</summary>
    public static JsonPatch? Parse(ReadOnlySpan<byte> patch, out string? error)
    {
        error = null;
        var parsed = FhirJson.TryParse(patch);
        if (parsed is not JsonArray list)
        {
            error = parsed is null ? "The patch is not JSON." : "A JSON Patch is an array of operations.";
            return null;
        }

        if (list.Count > MaxOperations)
        {
            error = $"A JSON Patch may have at most {MaxOperations} operations.";
            return null;
        }

        var operations = new List<Operation>(list.Count);
        foreach (var item in list)
        {
            if (item is not JsonObject op || !FhirElements.TryGetString(op, "op", out var name) || !FhirElements.TryGetString(op, "path", out var path)
                || Pointer(path) is not { } segments)
            {
                error = "Each operation needs a string 'op' and a JSON Pointer 'path'.";
                return null;
            }

            var from = FhirElements.TryGetString(op, "from", out var fromText) ? Pointer(fromText) : null;
            var hasValue = op.TryGetPropertyValue("value", out var value);
            var shapeOk = Names.Contains(name)
                && (name is not ("add" or "replace" or "test") || hasValue)
                && (name is not ("move" or "copy") || from is not null);
            if (!shapeOk)
            {
                error = $"The '{name}' operation at '{path}' is not a JSON Patch operation Hearth applies (add, remove, replace, move, copy or test with their members).";
                return null;
            }

            operations.Add(new Operation(name, path, segments, from, value, hasValue));
        }

        return new JsonPatch(operations);
    }

    /// <summary>Parses and applies in one step (no size limit); null with a reason when either fails.</summary>
    public static JsonObject? Apply(JsonObject resource, ReadOnlyMemory<byte> patch, out string? error)
        => Parse(patch.Span, out error) is { } parsed ? parsed.Apply(resource, long.MaxValue, out error) : null;

    /// <summary>
    /// Applies the patch to a copy of <paramref name="resource"/>; null with a reason when an
    /// operation cannot be applied or the result would be larger than <paramref name="maxBytes"/>
    /// (checked before each operation that adds, so it never grows past it).
    /// </summary>
    public JsonObject? Apply(JsonObject resource, long maxBytes, out string? error)
    {
        error = null;
        var size = FhirJson.Utf8Length(resource);
        if (size > maxBytes)
        {
            error = $"The resource is larger than {maxBytes} bytes; Hearth does not patch it.";
            return null;
        }

        JsonNode document = resource.DeepClone();
        foreach (var op in _operations)
        {
            var ok = true;
            JsonNode? added = null;
            switch (op.Name)
            {
                case "add":
                case "replace":
                    added = op.Value;
                    break;
                case "copy":
                    ok = Get(document, op.From!, out added);
                    break;
            }

            if (ok && added is not null)
            {
                size += FhirJson.Utf8Length(added) + op.Segments.LastOrDefault("").Length + 4;
                if (size > maxBytes)
                {
                    error = $"The patch would make the resource larger than {maxBytes} bytes.";
                    return null;
                }
            }

            ok = ok && op.Name switch
            {
                "add" => Add(ref document, op.Segments, op.Value?.DeepClone()),
                "remove" => TryRemove(document, op.Segments, out _),
                "replace" => TryRemove(document, op.Segments, out _) && Add(ref document, op.Segments, op.Value?.DeepClone()),
                "move" => !IsPrefix(op.From!, op.Segments) && TryRemove(document, op.From!, out var moved) && Add(ref document, op.Segments, moved),
                "copy" => Add(ref document, op.Segments, added?.DeepClone()),
                _ => Get(document, op.Segments, out var actual) && JsonNode.DeepEquals(actual, op.Value),
            };
            if (!ok)
            {
                error = $"The '{op.Name}' operation at '{op.Path}' cannot be applied.";
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
