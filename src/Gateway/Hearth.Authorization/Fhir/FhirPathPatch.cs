using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.ElementModel;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification;
using Hl7.FhirPath;
using Hl7.FhirPath.Expressions;
using Expression = Hl7.FhirPath.Expressions.Expression;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// FHIRPath Patch (FHIR R4, "FHIRPath Patch": a Parameters resource of <c>operation</c>s) applied
/// to a copy of a stored resource, so that Hearth can judge what the PATCH would produce.
/// <para>
/// Paths are evaluated by the Firely FHIRPath engine, so the whole language works in them; every
/// element a path selects is then located in the JSON by its canonical location. Hearth forwards
/// the result it judged (as an update pinned to the stored version), not the patch: the FHIR
/// server cannot evaluate a path differently from Hearth and store something that was not
/// checked, and servers without FHIRPath Patch support it this way too.
/// </para>
/// Returns null (with a reason) when the patch is malformed or cannot be applied; such a PATCH is
/// refused, never forwarded. Not supported (refused with a reason): values that are whole
/// resources, extensions on primitive values (<c>_value[x]</c>), and paths into a primitive's
/// extensions.
/// </summary>
public sealed class FhirPathPatch
{
    public const int MaxOperations = 100;

    /// <summary>How deeply brackets may nest in a path: the FHIRPath parser recurses on them (a few hundred levels overflow its stack).</summary>
    public const int MaxNesting = 32;

    private const int PathLimit = 1000;
    private const int ExpressionNodeLimit = 200;
    private static readonly ModelInspector Inspector = ModelInfo.ModelInspector;
    private static readonly PocoStructureDefinitionSummaryProvider Provider = new();
    private static readonly TypedElementSettings Lenient = new() { ErrorMode = TypedElementSettings.TypeErrorMode.Ignore };
    private static readonly FhirPathCompiler Parser = new();

    // What a patch path may use: navigation, filters and comparisons. Left out on purpose:
    // functions whose cost can grow faster than the resource (descendants, repeat, aggregate,
    // matches/replaceMatches with a client's regular expression), resolve and terminology
    // functions (they would reach other servers), and %variables (they restart from the root
    // inside a filter, multiplying the work). A path using them is refused, not evaluated.
    private static readonly HashSet<string> Functions =
    [
        "builtin.children", "builtin.item", "where", "first", "last", "tail", "skip", "take", "single", "ofType", "as", "is",
        "exists", "empty", "not", "all", "extension", "count", "hasValue", "startsWith", "endsWith", "contains", "lower", "upper",
        "length", "toString", "distinct", "isDistinct",
    ];

    private static readonly HashSet<string> Operators =
        ["=", "!=", "~", "!~", "and", "or", "xor", "implies", "<", ">", "<=", ">=", "|", "contains", "in", "+", "-", "&", "is", "as"];

    private readonly IReadOnlyList<Operation> _operations;

    private FhirPathPatch(IReadOnlyList<Operation> operations) => _operations = operations;

    /// <summary>
    /// Reads a FHIRPath Patch (a Parameters resource in JSON) and checks it alone, without any
    /// stored data: at most <see cref="MaxOperations"/> operations of a known shape, whose paths
    /// parse as FHIRPath Hearth evaluates. Null with the reason otherwise.
    /// </summary>
    public static FhirPathPatch? Parse(ReadOnlyMemory<byte> patch, out string? error)
        => FhirJson.TryParse(patch.Span) switch
        {
            JsonObject parameters => Parse(parameters, out error),
            null => Fail<FhirPathPatch>("The patch is not JSON.", out error),
            _ => Fail<FhirPathPatch>("A FHIRPath Patch is a Parameters resource.", out error),
        };

    /// <inheritdoc cref="Parse(ReadOnlyMemory{byte}, out string?)"/>
    public static FhirPathPatch? Parse(JsonObject parameters, out string? error)
    {
        if (!FhirElements.TryGetString(parameters, "resourceType", out var type) || type != "Parameters"
            || parameters["parameter"] is not JsonArray { Count: > 0 } items)
        {
            return Fail<FhirPathPatch>("A FHIRPath Patch is a Parameters resource with at least one 'operation' parameter.", out error);
        }

        if (items.Count > MaxOperations)
        {
            return Fail<FhirPathPatch>($"A FHIRPath Patch may have at most {MaxOperations} operations.", out error);
        }

        var operations = new List<Operation>(items.Count);
        var number = 0;
        foreach (var item in items)
        {
            number++;
            if (Operation.Read(item, out error) is not { } operation)
            {
                return Fail<FhirPathPatch>($"Operation {number}: {error}", out error);
            }

            operations.Add(operation);
        }

        error = null;
        return new FhirPathPatch(operations);
    }

    /// <summary>Parses and applies in one step (no size limit); null with a reason when either fails.</summary>
    public static JsonObject? Apply(JsonObject resource, ReadOnlyMemory<byte> patch, out string? error)
        => Parse(patch, out error) is { } parsed ? parsed.Apply(resource, long.MaxValue, out error) : null;

    /// <inheritdoc cref="Apply(JsonObject, ReadOnlyMemory{byte}, out string?)"/>
    public static JsonObject? Apply(JsonObject resource, JsonObject parameters, out string? error)
        => Parse(parameters, out error) is { } parsed ? parsed.Apply(resource, long.MaxValue, out error) : null;

    /// <summary>
    /// Applies the patch to a copy of <paramref name="resource"/>; null with a reason when an
    /// operation cannot be applied or the result grows past <paramref name="maxBytes"/> (checked
    /// after each operation).
    /// </summary>
    public JsonObject? Apply(JsonObject resource, long maxBytes, out string? error)
    {
        if (!FhirElements.TryGetString(resource, "resourceType", out var resourceType) || Inspector.FindClassMapping(resourceType) is not { } rootMapping)
        {
            return Fail<JsonObject>("The stored resource has no known resourceType.", out error);
        }

        if (FhirJson.Utf8Length(resource) > maxBytes)
        {
            return Fail<JsonObject>($"The resource is larger than {maxBytes} bytes; Hearth does not patch it.", out error);
        }

        var document = (JsonObject)resource.DeepClone();
        var patcher = new Patcher(document, resourceType, rootMapping);
        var number = 0;
        foreach (var operation in _operations)
        {
            number++;
            if (!patcher.Run(operation, out error))
            {
                return Fail<JsonObject>($"Operation {number} ({operation.Type} at '{operation.Path}'): {error}", out error);
            }

            if (FhirJson.Utf8Length(document) > maxBytes)
            {
                return Fail<JsonObject>($"The patch would make the resource larger than {maxBytes} bytes.", out error);
            }
        }

        error = null;
        return document;
    }

    private static T? Fail<T>(string reason, out string? error)
        where T : class
    {
        error = reason;
        return null;
    }

    private static bool Allowed(Expression expression, ref int nodes)
    {
        if (++nodes > ExpressionNodeLimit)
        {
            return false;
        }

        switch (expression)
        {
            case BinaryExpression binary:
                return Operators.Contains(binary.Op) && Allowed(binary.Left, ref nodes) && Allowed(binary.Right, ref nodes);
            case UnaryExpression unary:
                return unary.Op is "-" or "+" && Allowed(unary.Operand, ref nodes);
            case SortDirectionExpression:
                return false;
            case FunctionCallExpression call:
                if (!Functions.Contains(call.FunctionName) || !Allowed(call.Focus, ref nodes))
                {
                    return false;
                }

                foreach (var argument in call.Arguments)
                {
                    if (!Allowed(argument, ref nodes))
                    {
                        return false;
                    }
                }

                return true;
            case BracketExpression bracket:
                return Allowed(bracket.Operand, ref nodes);
            case NewNodeListInitExpression list:
                foreach (var item in list.Contents)
                {
                    if (!Allowed(item, ref nodes))
                    {
                        return false;
                    }
                }

                return true;
            case AxisExpression:
            case ConstantExpression:
                return true;
            default:
                return false; // %resource, %context and anything newer than this list
        }
    }

    /// <summary>One <c>operation</c> parameter, its parts read and checked for shape, its path parsed and checked.</summary>
    private sealed record Operation(string Type, string Path, string? Name, JsonObject? Value, int? Index, int? Source, int? Destination)
    {
        private static readonly HashSet<string> Types = ["add", "insert", "delete", "replace", "move"];

        public static Operation? Read(JsonNode? item, out string? error)
        {
            error = null;
            if (item is not JsonObject parameter || !FhirElements.TryGetString(parameter, "name", out var name) || name != "operation"
                || parameter["part"] is not JsonArray parts)
            {
                error = "each parameter must be an 'operation' with parts.";
                return null;
            }

            var seen = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var partNode in parts)
            {
                if (partNode is not JsonObject part || !FhirElements.TryGetString(part, "name", out var partName) || !seen.TryAdd(partName, part))
                {
                    error = "each part needs a name, and a name may appear once.";
                    return null;
                }
            }

            string? String(string part, string valueKey) =>
                seen.TryGetValue(part, out var p) && p[valueKey] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            int? Integer(string part) =>
                seen.TryGetValue(part, out var p) && p["valueInteger"] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

            var type = String("type", "valueCode");
            var path = String("path", "valueString");
            if (type is null || !Types.Contains(type) || string.IsNullOrWhiteSpace(path))
            {
                error = "'type' (add, insert, delete, replace or move) and 'path' are required.";
                return null;
            }

            var unknown = seen.Keys.Except(["type", "path", "name", "value", "index", "source", "destination"]).FirstOrDefault();
            if (unknown is not null)
            {
                error = $"unknown part '{unknown}'.";
                return null;
            }

            if (!PathAllowed(path, out error))
            {
                return null;
            }

            var operation = new Operation(type, path, String("name", "valueString"), seen.GetValueOrDefault("value"), Integer("index"), Integer("source"), Integer("destination"));
            var missing = type switch
            {
                "add" when operation.Name is null || operation.Value is null => "add needs 'name' and 'value'.",
                "insert" when operation.Value is null || operation.Index is null => "insert needs 'value' and 'index'.",
                "replace" when operation.Value is null => "replace needs 'value'.",
                "move" when operation.Source is null || operation.Destination is null => "move needs 'source' and 'destination'.",
                _ => null,
            };
            error = missing;
            return missing is null ? operation : null;
        }

        /// <summary>
        /// Whether the path is a FHIRPath expression Hearth evaluates: bounded in length and bracket
        /// nesting before the (recursive) parser sees it, then checked against the allowed functions
        /// and operators and the number of terms.
        /// </summary>
        private static bool PathAllowed(string path, out string? error)
        {
            error = null;
            if (path.Length > PathLimit)
            {
                error = $"the path is longer than {PathLimit} characters.";
                return false;
            }

            if (Nesting(path) > MaxNesting)
            {
                error = $"the path nests brackets more than {MaxNesting} deep.";
                return false;
            }

            Expression expression;
            try
            {
                expression = Parser.Parse(path);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error = $"the path is not a FHIRPath expression Hearth can evaluate ({e.Message}).";
                return false;
            }

            var nodes = 0;
            if (!Allowed(expression, ref nodes))
            {
                error = $"the path uses FHIRPath that Hearth does not evaluate in a patch (descendants, repeat, aggregate, matches, resolve, terminology functions and %variables), or more than {ExpressionNodeLimit} terms.";
                return false;
            }

            return true;
        }

        /// <summary>The deepest nesting of (), [] and {} outside string literals and quoted identifiers.</summary>
        private static int Nesting(string path)
        {
            var depth = 0;
            var deepest = 0;
            char? quote = null;
            for (var i = 0; i < path.Length; i++)
            {
                var c = path[i];
                if (quote is not null)
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == quote)
                    {
                        quote = null;
                    }

                    continue;
                }

                switch (c)
                {
                    case '\'' or '`':
                        quote = c;
                        break;
                    case '(' or '[' or '{':
                        deepest = Math.Max(deepest, ++depth);
                        break;
                    case ')' or ']' or '}':
                        depth--;
                        break;
                }
            }

            return deepest;
        }
    }

    /// <summary>Where a selected element lives in the JSON: <c>Parent[Key]</c>, or item <c>Index</c> of that array.</summary>
    private sealed record Slot(JsonObject Parent, string Key, int? Index, PropertyMapping Property, JsonNode Value, ClassMapping? ValueMapping);

    private sealed class Patcher(JsonObject document, string resourceType, ClassMapping rootMapping)
    {
        public bool Run(Operation operation, out string? error)
        {
            if (Select(operation, out error) is not { } selected)
            {
                return false;
            }

            error = operation.Type switch
            {
                "add" => Add(selected, operation),
                "insert" => Insert(selected, operation),
                "delete" => Delete(selected),
                "replace" => Replace(selected, operation),
                _ => Move(selected, operation),
            };
            return error is null;
        }

        /// <summary>The elements the path selects; null slot means the resource itself.</summary>
        private List<Slot?>? Select(Operation operation, out string? error)
        {
            List<ITypedElement> results;
            try
            {
                var typed = FhirJsonNode.Parse(document.ToJsonString(FhirJson.Output)).ToTypedElement(Provider, null, Lenient);
                results = typed.Select(operation.Path, new EvaluationContext()).ToList(); // the path was checked by Parse (and Firely caches its compilation)
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error = $"the path cannot be evaluated on this resource ({e.Message}).";
                return null;
            }

            var slots = new List<Slot?>(results.Count);
            foreach (var result in results)
            {
                if (!Locate(result.Location, out var slot))
                {
                    error = "the path selects something that is not an element of the resource Hearth can patch (a computed value, or an extension of a primitive value).";
                    return null;
                }

                slots.Add(slot);
            }

            error = null;
            return slots;
        }

        /// <summary>Follows a canonical location (<c>Patient.name[0].given[1]</c>) through the JSON.</summary>
        private bool Locate(string location, out Slot? slot)
        {
            slot = null;
            var segments = location.Split('.');
            if (segments[0] != resourceType)
            {
                return false;
            }

            JsonObject? current = document;
            var mapping = rootMapping;
            foreach (var segment in segments.AsSpan(1))
            {
                var bracket = segment.IndexOf('[');
                if (current is null || mapping is null || bracket < 1 || !segment.EndsWith(']')
                    || !int.TryParse(segment.AsSpan(bracket + 1, segment.Length - bracket - 2), out var index) || index < 0)
                {
                    return false;
                }

                var name = segment[..bracket];
                if (mapping.FindMappedElementByName(name) is not { } property || KeyOf(current, name, property) is not { } key)
                {
                    return false;
                }

                var node = current[key];
                JsonNode? value;
                int? position = null;
                if (node is JsonArray array)
                {
                    if (index >= array.Count)
                    {
                        return false;
                    }

                    value = array[index];
                    position = index;
                }
                else
                {
                    value = index == 0 ? node : null;
                }

                if (value is null)
                {
                    return false;
                }

                var valueMapping = value is JsonObject complex ? MappingOf(property, key, complex) : null;
                slot = new Slot(current, key, position, property, value, valueMapping);
                current = value as JsonObject;
                mapping = valueMapping!;
            }

            return true;
        }

        private string? Add(List<Slot?> selected, Operation operation)
        {
            if (selected.Count != 1)
            {
                return selected.Count == 0 ? "the path selects nothing to add to." : "the path selects more than one element.";
            }

            var (container, mapping) = selected[0] is { } slot ? (slot.Value as JsonObject, slot.ValueMapping) : (document, rootMapping);
            if (container is null || mapping is null)
            {
                return "the path selects a primitive value; add needs an element with children.";
            }

            if (mapping.FindMappedElementByName(operation.Name!) is not { } property || operation.Name!.StartsWith('_'))
            {
                return $"{mapping.Name} has no element '{operation.Name}'.";
            }

            if (BuildValue(property, operation.Value!, out var value, out var key) is { } problem)
            {
                return problem;
            }

            if (property.IsCollection)
            {
                if (container[key] is JsonArray list)
                {
                    list.Add(value);
                    (container["_" + key] as JsonArray)?.Add(null);
                }
                else
                {
                    container[key] = new JsonArray(value);
                }

                return null;
            }

            if (KeyOf(container, property.Name, property) is not null)
            {
                return $"'{property.Name}' already has a value; use replace.";
            }

            container[key] = value;
            return null;
        }

        private string? Insert(List<Slot?> selected, Operation operation)
        {
            if (List(selected, out var list) is { } problem)
            {
                return problem;
            }

            var (first, array) = list;
            var index = operation.Index!.Value;
            if (index < 0 || index > array.Count)
            {
                return $"index {index} is outside the list (0 to {array.Count}).";
            }

            if (BuildValue(first.Property, operation.Value!, out var value, out _) is { } valueProblem)
            {
                return valueProblem;
            }

            array.Insert(index, value);
            (first.Parent["_" + first.Key] as JsonArray)?.Insert(index, null);
            return null;
        }

        private string? Move(List<Slot?> selected, Operation operation)
        {
            if (List(selected, out var list) is { } problem)
            {
                return problem;
            }

            var (first, array) = list;
            var (source, destination) = (operation.Source!.Value, operation.Destination!.Value);
            if (source < 0 || source >= array.Count || destination < 0 || destination >= array.Count)
            {
                return $"source and destination must be within the list (0 to {array.Count - 1}).";
            }

            MoveItem(array, source, destination);
            if (first.Parent["_" + first.Key] is JsonArray companion && companion.Count == array.Count)
            {
                MoveItem(companion, source, destination);
            }

            return null;
        }

        private string? Delete(List<Slot?> selected)
        {
            if (selected.Count == 0)
            {
                return null; // nothing there: deleting it changes nothing
            }

            if (selected.Count > 1 || selected[0] is not { } slot)
            {
                return selected.Count > 1 ? "the path selects more than one element." : "the resource itself cannot be deleted by a patch.";
            }

            Remove(slot);
            return null;
        }

        private string? Replace(List<Slot?> selected, Operation operation)
        {
            if (selected.Count != 1 || selected[0] is not { } slot)
            {
                return selected.Count switch
                {
                    0 => "the path selects nothing to replace.",
                    1 => "the resource itself cannot be replaced by a patch.",
                    _ => "the path selects more than one element.",
                };
            }

            if (BuildValue(slot.Property, operation.Value!, out var value, out var key) is { } problem)
            {
                return problem;
            }

            if (slot.Index is { } index)
            {
                ((JsonArray)slot.Parent[slot.Key]!)[index] = value;
                if (slot.Parent["_" + slot.Key] is JsonArray companion && index < companion.Count)
                {
                    companion[index] = null;
                    DropIfEmpty(slot.Parent, "_" + slot.Key);
                }

                return null;
            }

            slot.Parent.Remove(slot.Key);
            slot.Parent.Remove("_" + slot.Key);
            slot.Parent[key] = value;
            return null;
        }

        /// <summary>The selected elements must be exactly the items of one list.</summary>
        private static string? List(List<Slot?> selected, out (Slot First, JsonArray Array) list)
        {
            list = default;
            if (selected.Count == 0 || selected[0] is not { Index: not null } first || first.Parent[first.Key] is not JsonArray array)
            {
                return "the path must select a non-empty list (use add for a list that has no items yet).";
            }

            if (selected.Count != array.Count || selected.Any(s => s is null || s.Parent != first.Parent || s.Key != first.Key))
            {
                return "the path must select all items of one list.";
            }

            list = (first, array);
            return null;
        }

        private static void Remove(Slot slot)
        {
            if (slot.Index is not { } index)
            {
                slot.Parent.Remove(slot.Key);
                slot.Parent.Remove("_" + slot.Key);
                return;
            }

            var array = (JsonArray)slot.Parent[slot.Key]!;
            array.RemoveAt(index);
            if (slot.Parent["_" + slot.Key] is JsonArray companion && index < companion.Count)
            {
                companion.RemoveAt(index);
                DropIfEmpty(slot.Parent, "_" + slot.Key);
            }

            if (array.Count == 0)
            {
                slot.Parent.Remove(slot.Key);
                slot.Parent.Remove("_" + slot.Key);
            }
        }

        private static void DropIfEmpty(JsonObject parent, string key)
        {
            if (parent[key] is JsonArray array && array.All(item => item is null))
            {
                parent.Remove(key);
            }
        }

        private static void MoveItem(JsonArray array, int source, int destination)
        {
            var item = array[source];
            array.RemoveAt(source);
            array.Insert(destination, item);
        }

        /// <summary>
        /// The JSON for a <c>value</c> part aimed at <paramref name="property"/>: a <c>value[x]</c>
        /// of one of the element's types, or nested parts for an element with children. Also the
        /// JSON key it goes under (a choice element's key carries the type).
        /// </summary>
        private static string? BuildValue(PropertyMapping property, JsonObject part, out JsonNode value, out string key)
        {
            value = null!;
            key = property.Name;
            if (part.Any(p => p.Key.StartsWith("_value", StringComparison.Ordinal)) || part.ContainsKey("resource"))
            {
                return "values that are resources, or primitive values with extensions, are not supported by Hearth in a FHIRPath Patch.";
            }

            var valueKeys = part.Where(p => p.Key.StartsWith("value", StringComparison.Ordinal) && p.Key.Length > 5).ToList();
            if (valueKeys.Count == 1 && !part.ContainsKey("part"))
            {
                var typeName = valueKeys[0].Key[5..];
                if (!TypeNames(property).Contains(typeName, StringComparer.OrdinalIgnoreCase) || valueKeys[0].Value is null)
                {
                    return $"a {typeName} cannot be the value of '{property.Name}'.";
                }

                value = valueKeys[0].Value!.DeepClone();
                key = property.Choice == ChoiceType.DatatypeChoice ? property.Name + typeName : property.Name;
                return null;
            }

            if (valueKeys.Count > 0 || part["part"] is not JsonArray children || property.Choice != ChoiceType.None
                || Inspector.FindOrImportClassMapping(property.ImplementingType) is not { IsPrimitive: false, IsResource: false } mapping)
            {
                return $"the value of '{property.Name}' needs one value[x] of its type, or parts for an element with children.";
            }

            var built = new JsonObject();
            foreach (var childNode in children)
            {
                if (childNode is not JsonObject child || !FhirElements.TryGetString(child, "name", out var childName)
                    || childName.StartsWith('_') || mapping.FindMappedElementByName(childName) is not { } childProperty)
                {
                    return $"a part of the value names no element of {mapping.Name}.";
                }

                if (BuildValue(childProperty, child, out var childValue, out var childKey) is { } problem)
                {
                    return problem;
                }

                if (childProperty.IsCollection)
                {
                    if (built[childKey] is JsonArray list)
                    {
                        list.Add(childValue);
                    }
                    else
                    {
                        built[childKey] = new JsonArray(childValue);
                    }
                }
                else if (KeyOf(built, childProperty.Name, childProperty) is not null)
                {
                    return $"'{childName}' appears more than once but is not a list.";
                }
                else
                {
                    built[childKey] = childValue;
                }
            }

            value = built;
            return null;
        }

        /// <summary>The JSON key that holds <paramref name="property"/> in <paramref name="owner"/>, if any.</summary>
        private static string? KeyOf(JsonObject owner, string name, PropertyMapping property)
        {
            if (property.Choice != ChoiceType.DatatypeChoice)
            {
                return owner.ContainsKey(name) ? name : null;
            }

            foreach (var (key, _) in owner)
            {
                if (key.Length > name.Length && key.StartsWith(name, StringComparison.Ordinal) && char.IsUpper(key[name.Length])
                    && TypeNames(property).Contains(key[name.Length..], StringComparer.OrdinalIgnoreCase))
                {
                    return key;
                }
            }

            return null;
        }

        private static IEnumerable<string> TypeNames(PropertyMapping property) =>
            property.FhirType.Select(t => Inspector.FindOrImportClassMapping(t)?.Name).OfType<string>();

        private static ClassMapping? MappingOf(PropertyMapping property, string key, JsonObject value)
        {
            if (property.Choice == ChoiceType.DatatypeChoice)
            {
                return Inspector.FindClassMapping(key[property.Name.Length..]);
            }

            if (typeof(Resource).IsAssignableFrom(property.ImplementingType) || property.Choice == ChoiceType.ResourceChoice)
            {
                return FhirElements.TryGetString(value, "resourceType", out var type) ? Inspector.FindClassMapping(type) : null;
            }

            return Inspector.FindOrImportClassMapping(property.ImplementingType);
        }
    }
}
