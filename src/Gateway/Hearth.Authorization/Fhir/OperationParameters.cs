using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// An operation's <c>Parameters</c> body, read for the rules: its primitive parameters as name and
/// value (what a GET would carry in its query, so the same bounds and criteria rules hold), and the
/// meta changes of <c>$meta-add</c> and <c>$meta-delete</c> applied to a stored resource.
/// </summary>
public static class OperationParameters
{
    /// <summary>The parameters with a primitive <c>value[x]</c>, as name and text; null when the body is not a Parameters resource.</summary>
    public static List<KeyValuePair<string, IReadOnlyList<string>>>? Primitives(JsonObject body)
    {
        if (!FhirElements.IsResource(body, out _, out var type) || type != "Parameters" || body["parameter"] is not (null or JsonArray))
        {
            return null;
        }

        var named = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        foreach (var parameter in body["parameter"] as JsonArray ?? [])
        {
            if (parameter is not JsonObject p || !FhirElements.TryGetString(p, "name", out var name))
            {
                return null;
            }

            foreach (var (key, value) in p)
            {
                if (key.StartsWith("value", StringComparison.Ordinal) && value is JsonValue primitive && Text(primitive) is { } text)
                {
                    named.Add(KeyValuePair.Create(name, (IReadOnlyList<string>)[text]));
                }
            }
        }

        return named;
    }

    /// <summary>
    /// <c>$meta-add</c> (<paramref name="add"/>) or <c>$meta-delete</c>: a copy of
    /// <paramref name="stored"/> with the <c>meta</c> parameter's tags, security labels (by system
    /// and code) and profiles added or removed; null with a sentence when the body is not one Meta.
    /// </summary>
    public static JsonObject? ApplyMeta(JsonObject stored, JsonObject body, bool add, out string? error)
    {
        var metas = (body["parameter"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(p => FhirElements.TryGetString(p, "name", out var name) && name == "meta").ToList();
        // Nothing else: the FHIR server applies the body it gets, which must say no more than what was judged.
        if (!FhirElements.IsResource(body, out _, out var type) || type != "Parameters" || metas.Count != 1 || (body["parameter"] as JsonArray)!.Count != 1
            || metas[0]["valueMeta"] is not JsonObject change)
        {
            error = "The body must be a Parameters resource with one parameter, meta (valueMeta), and no other.";
            return null;
        }

        var result = (JsonObject)stored.DeepClone();
        var meta = result["meta"] as JsonObject ?? new JsonObject();
        result["meta"] = meta;
        foreach (var list in new[] { "tag", "security" })
        {
            var codings = change[list] as JsonArray ?? [];
            var current = meta[list] as JsonArray ?? [];
            var kept = add
                ? current.Concat(codings.Where(c => !current.Any(s => SameCoding(s, c)))).Select(c => c?.DeepClone()).ToList()
                : current.Where(s => !codings.Any(c => SameCoding(s, c))).Select(c => c?.DeepClone()).ToList();
            Set(meta, list, kept);
        }

        var changed = (change["profile"] as JsonArray ?? []).Select(p => p?.ToJsonString()).ToList();
        var present = (meta["profile"] as JsonArray ?? []).Select(p => p?.ToJsonString()).ToList();
        var profiles = add ? present.Concat(changed.Where(p => !present.Contains(p))) : present.Where(p => !changed.Contains(p));
        Set(meta, "profile", profiles.Distinct().Select(p => p is null ? null : JsonNode.Parse(p)).ToList());
        error = null;
        return result;
    }

    private static void Set(JsonObject meta, string name, List<JsonNode?> items)
    {
        if (items.Count == 0)
        {
            meta.Remove(name);
        }
        else
        {
            meta[name] = new JsonArray(items.ToArray());
        }
    }

    private static bool SameCoding(JsonNode? a, JsonNode? b)
        => a is JsonObject x && b is JsonObject y && Field(x, "system") == Field(y, "system") && Field(x, "code") == Field(y, "code");

    private static string? Field(JsonObject coding, string name) => FhirElements.TryGetString(coding, name, out var value) ? value : null;

    private static string? Text(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.Number => value.ToJsonString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
