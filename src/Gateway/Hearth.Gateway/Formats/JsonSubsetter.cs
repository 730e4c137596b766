using System.Text.Json.Nodes;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;

namespace Hearth.Gateway.Formats;

/// <summary>
/// <c>_summary</c> / <c>_elements</c> applied to the JSON tree, with the FHIR model's element
/// definitions (summary, modifier, mandatory) and the rules of Firely's masking serializer (which
/// tests keep as the reference): no resource is read into objects and written again. Elements the
/// model does not know are left out, as that serializer leaves them out.
/// </summary>
internal sealed class JsonSubsetter
{
    private static readonly ModelInspector Model = ModelInfo.ModelInspector;

    private readonly bool _includeInSummary;
    private readonly bool _includeAll;
    private readonly bool _excludeNarrative;
    private readonly bool _includeMandatory;
    private readonly bool _preserveBundles;
    private readonly HashSet<string>? _elements;

    public JsonSubsetter(SummaryType summary, string[]? elements)
    {
        (_includeInSummary, _includeAll, _excludeNarrative, _includeMandatory, _preserveBundles) = summary switch
        {
            SummaryType.True => (true, false, false, false, false),
            SummaryType.Data => (false, true, true, false, false),
            SummaryType.Text => (false, false, false, true, true),
            _ => (false, false, false, false, true),
        };
        _elements = summary == SummaryType.Text ? ["text", "id", "meta"] : elements is null ? null : [.. elements, "id", "meta"];
    }

    /// <summary>The subset of <paramref name="resource"/> (a new tree; the input is not changed).</summary>
    public JsonObject Resource(JsonObject resource)
    {
        var type = resource["resourceType"]?.GetValue<string>() ?? "";
        var result = new JsonObject { ["resourceType"] = type };
        if (Model.FindClassMapping(type) is { } mapping)
        {
            Members(resource, mapping, result, new Scope(type, TopLevel: true, All: false));
        }

        return result;
    }

    /// <param name="Nearest">The type of the resource the members belong to.</param>
    /// <param name="TopLevel">The members are the resource's own (where <c>_elements</c> names match).</param>
    /// <param name="All">An ancestor was kept whole (named by <c>_elements</c>, or mandatory for <c>_summary=text</c>): everything below it is kept.</param>
    private readonly record struct Scope(string Nearest, bool TopLevel, bool All);

    private void Members(JsonObject source, ClassMapping mapping, JsonObject target, Scope scope)
    {
        foreach (var (name, _) in source)
        {
            var element = name.StartsWith('_') ? name[1..] : name;
            if (name == "resourceType" || (name.StartsWith('_') && source.ContainsKey(element)))
            {
                continue; // "_x" goes with "x"
            }

            if ((mapping.FindMappedElementByName(element) ?? mapping.FindMappedElementByChoiceName(element)) is not { } property)
            {
                continue;
            }

            var type = InstanceType(property, element);
            var (included, whole) = Included(property, type, scope);
            if (!included)
            {
                continue;
            }

            var child = scope with { TopLevel = false, All = whole };
            foreach (var key in new[] { element, "_" + element })
            {
                if (source[key] is { } value && Value(value, type, child) is { } kept)
                {
                    target[key] = kept;
                }
            }
        }
    }

    /// <summary>Whether the element is kept, and whether whole (everything below it).</summary>
    private (bool Included, bool Whole) Included(PropertyMapping property, ClassMapping? type, Scope scope)
    {
        if (_excludeNarrative && type?.Name == "Narrative")
        {
            return (false, false);
        }

        if (scope.All || (_preserveBundles && scope.Nearest == "Bundle"))
        {
            return (true, scope.All);
        }

        var whole = (_includeMandatory && property.IsMandatoryElement) || (scope.TopLevel && _elements is not null && _elements.Contains(property.Name));
        return (whole || _includeAll || (_includeInSummary && (property.InSummary || property.IsModifier)), whole);
    }

    /// <summary>The kept part of a value; null when nothing of it is kept (a primitive's extras left empty).</summary>
    private JsonNode? Value(JsonNode value, ClassMapping? type, Scope scope)
    {
        switch (value)
        {
            case JsonArray list:
                var items = list.Select(item => item is null ? null : Value(item, type, scope)).ToList();
                return items.All(i => i is null) && list.Count > 0 && list.All(i => i is null || i is JsonObject) ? null : new JsonArray([.. items]);
            case JsonObject obj when obj["resourceType"] is JsonValue:
                // A resource inside a resource: its members belong to it.
                var inner = obj["resourceType"]!.GetValue<string>();
                var result = new JsonObject { ["resourceType"] = inner };
                if (Model.FindClassMapping(inner) is { } mapping)
                {
                    Members(obj, mapping, result, new Scope(inner, TopLevel: true, All: scope.All));
                }

                return result;
            case JsonObject obj when type is not null:
                var subset = new JsonObject();
                Members(obj, type, subset, scope);
                return subset.Count == 0 && (type.IsFhirPrimitive || type.IsPrimitive) ? null : subset;
            default:
                return value.DeepClone(); // a primitive's value
        }
    }

    /// <summary>The element's type: its declared type, or for a choice the one its name ends with (valueQuantity: Quantity).</summary>
    private static ClassMapping? InstanceType(PropertyMapping property, string element)
    {
        if (property.Choice != ChoiceType.DatatypeChoice)
        {
            return property.PropertyTypeMapping;
        }

        var suffix = element[property.Name.Length..];
        return Model.FindClassMapping(suffix) ?? Model.FindClassMapping(char.ToLowerInvariant(suffix[0]) + suffix[1..]);
    }
}
