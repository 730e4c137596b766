using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// A token search parameter's expression that is only paths (<c>Observation.code |
/// Observation.component.code</c>: 611 of R4's 668), read straight from the resource's JSON, the
/// way Firely's FHIRPath engine reads it, without building a typed element (a resource judged
/// against granular scopes costs what walking it costs). Every path is resolved against Firely's
/// model once, and ends in a type whose tokens FHIR defines (CodeableConcept, Coding, Identifier,
/// ContactPoint, boolean, code and the other string primitives). Anything else (a function, a
/// choice type, <c>as</c>, a base type at the root) is not compiled: Firely evaluates it. A
/// resource whose JSON is not the shape the model says (an object where an array belongs, a
/// number where a string belongs, a null) is not read here either: Firely reads it, or fails closed.
/// </summary>
internal sealed partial class TokenPaths
{
    private static readonly ConcurrentDictionary<(string Resource, string Expression), TokenPaths?> Compiled = new();
    private static readonly HashSet<string> StringTypes = ["code", "string", "uri", "url", "canonical", "id", "oid", "uuid"];

    private readonly (string[] Steps, string Type)[] _paths;

    private TokenPaths((string[] Steps, string Type)[] paths) => _paths = paths;

    /// <summary>The compiled paths of <paramref name="expression"/> on <paramref name="resourceType"/>; null when Firely must evaluate it.</summary>
    public static TokenPaths? For(string resourceType, string expression) => Compiled.GetOrAdd((resourceType, expression), key => Compile(key.Resource, key.Expression));

    internal static TokenPaths? Compile(string resourceType, string expression)
    {
        var paths = new List<(string[], string)>();
        foreach (var raw in expression.Split('|'))
        {
            var part = raw.Trim();
            var root = RootName().Match(part);
            if (!root.Success)
            {
                return null;
            }

            if (root.Groups[1].Value != resourceType)
            {
                // Another concrete resource type's path yields nothing on this one; a base type (Resource, DomainResource) would match: Firely decides.
                if (ModelInfo.IsKnownResource(root.Groups[1].Value) && root.Groups[1].Value is not ("Resource" or "DomainResource"))
                {
                    continue;
                }

                return null;
            }

            if (!SimplePath().IsMatch(part) || Resolve(resourceType, part.Split('.')[1..]) is not { } path)
            {
                return null;
            }

            paths.Add(path);
        }

        return new TokenPaths([.. paths]);
    }

    /// <summary>The tokens the expression yields on <paramref name="resource"/>; null when its JSON is not the shape the model says (Firely decides).</summary>
    public (string? System, string? Code)[]? Evaluate(JsonObject resource)
    {
        var tokens = new List<(string?, string?)>();
        foreach (var (steps, type) in _paths)
        {
            if (!Walk(resource, steps, 0, type, tokens))
            {
                return null;
            }
        }

        return [.. tokens];
    }

    private static (string[], string)? Resolve(string resourceType, string[] steps)
    {
        ClassMapping? mapping = ModelInfo.ModelInspector.FindClassMapping(resourceType);
        foreach (var step in steps)
        {
            if (mapping?.FindMappedElementByName(step) is not { Choice: ChoiceType.None, FhirTypeMappings: [var next] })
            {
                return null;
            }

            mapping = next;
        }

        return mapping?.Name is "CodeableConcept" or "Coding" or "Identifier" or "ContactPoint" or "boolean" || StringTypes.Contains(mapping?.Name ?? "")
            ? (steps, mapping!.Name)
            : null;
    }

    /// <summary>Follows <paramref name="steps"/> from <paramref name="node"/> (an object), through arrays, as FHIRPath flattens them; false when the JSON is irregular.</summary>
    private static bool Walk(JsonObject node, string[] steps, int at, string type, List<(string?, string?)> tokens)
    {
        if (!node.TryGetPropertyValue(steps[at], out var child))
        {
            return true;
        }

        if (child is JsonArray items)
        {
            foreach (var item in items)
            {
                if (item is null or JsonArray || !Step(item, steps, at, type, tokens))
                {
                    return false;
                }
            }

            return true;
        }

        return child is not null && Step(child, steps, at, type, tokens);
    }

    private static bool Step(JsonNode item, string[] steps, int at, string type, List<(string?, string?)> tokens)
        => at == steps.Length - 1 ? Emit(item, type, tokens) : item is JsonObject next && Walk(next, steps, at + 1, type, tokens);

    /// <summary>The tokens of one element of <paramref name="type"/>, as FHIR token search reads them.</summary>
    private static bool Emit(JsonNode element, string type, List<(string?, string?)> tokens)
    {
        switch (type)
        {
            case "CodeableConcept":
                if (element is not JsonObject concept)
                {
                    return false;
                }

                if (!concept.TryGetPropertyValue("coding", out var codings))
                {
                    return true;
                }

                if (codings is not JsonArray list)
                {
                    return false;
                }

                foreach (var coding in list)
                {
                    if (coding is null || !Emit(coding, "Coding", tokens))
                    {
                        return false;
                    }
                }

                return true;
            case "Coding":
                return Pair(element, "system", "code", tokens);
            case "Identifier":
                return Pair(element, "system", "value", tokens);
            case "ContactPoint":
                return Pair(element, null, "value", tokens);
            case "boolean":
                if (element is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                {
                    tokens.Add((null, flag.GetValueKind() == JsonValueKind.True ? "true" : "false"));
                    return true;
                }

                return false;
            default: // the string primitives
                if (element is JsonValue text && text.GetValueKind() == JsonValueKind.String)
                {
                    tokens.Add((null, text.GetValue<string>()));
                    return true;
                }

                return false;
        }
    }

    private static bool Pair(JsonNode element, string? systemName, string codeName, List<(string?, string?)> tokens)
    {
        if (element is not JsonObject value)
        {
            return false;
        }

        string? system = null;
        if ((systemName is not null && !Text(value, systemName, out system)) || !Text(value, codeName, out var code))
        {
            return false;
        }

        tokens.Add((system, code));
        return true;
    }

    /// <summary>A string member: absent is null; present, it must be a string.</summary>
    private static bool Text(JsonObject value, string name, out string? text)
    {
        text = null;
        if (!value.TryGetPropertyValue(name, out var member))
        {
            return true;
        }

        if (member is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            text = s.GetValue<string>();
            return true;
        }

        return false;
    }

    [GeneratedRegex(@"^\(?([A-Za-z]+)\.")]
    private static partial Regex RootName();

    [GeneratedRegex(@"^[A-Za-z]+(\.[A-Za-z]+)+$")]
    private static partial Regex SimplePath();
}
