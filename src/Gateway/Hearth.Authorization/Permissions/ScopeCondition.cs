using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Hl7.Fhir.ElementModel;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification;
using Hl7.FhirPath;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// One condition of a granular SMART scope (<c>?category=laboratory</c>): a FHIR R4 search
/// parameter of type token, evaluated on the resource with its SearchParameter expression
/// (Firely's definitions and FHIRPath engine). Values: <c>code</c>, <c>system|code</c>,
/// <c>|code</c> (no system), <c>system|</c> (any code of the system); several, comma-separated,
/// match when any matches. Anything else (another parameter type, a modifier, an unknown
/// parameter) is not a condition Hearth can evaluate: the scope grants nothing.
/// </summary>
public sealed class ScopeCondition
{
    private static readonly ILookup<(string Resource, string Name), SearchParamDefinition> Definitions =
        ModelInfo.SearchParameters.Where(p => p.Type == SearchParamType.Token && p.Expression is not null).ToLookup(p => (p.Resource ?? "", p.Name ?? ""));

    private static readonly HashSet<string> TokenNames = ModelInfo.SearchParameters.Where(p => p.Type == SearchParamType.Token).Select(p => p.Name ?? "").ToHashSet(StringComparer.Ordinal);
    private static readonly PocoStructureDefinitionSummaryProvider Provider = new();
    private static readonly TypedElementSettings Lenient = new() { ErrorMode = TypedElementSettings.TypeErrorMode.Ignore };

    private readonly (string? System, string? Code)[] _values;
    private Expression? _expression; // the last resource type's expression: a scope is nearly always of one type

    /// <summary>Firely typed elements built and expressions evaluated (by <see cref="TokenPaths"/> or Firely) on this thread (what tests count to see the work is shared).</summary>
    [ThreadStatic]
    internal static int TypedElementsBuilt, ExpressionsEvaluated;

    private ScopeCondition(string name, (string? System, string? Code)[] values)
    {
        Name = name;
        _values = values;
    }

    public string Name { get; }

    /// <summary>Reads <c>name=value[,value]</c> for <paramref name="resourceType"/> (null: a scope of every type); null with the problem when Hearth cannot evaluate it.</summary>
    public static ScopeCondition? Parse(string? resourceType, string pair, out string? problem)
    {
        problem = null;
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        var name = equals > 0 ? pair[..equals] : pair;
        if (equals <= 0 || equals == pair.Length - 1)
        {
            problem = $"the condition '{name}' has no value";
            return null;
        }

        if (name.Contains(':', StringComparison.Ordinal))
        {
            problem = $"the condition '{name}' has a modifier";
            return null;
        }

        var known = resourceType is null ? TokenNames.Contains(name) : Definitions[(resourceType, name)].Any();
        if (!known)
        {
            problem = $"'{name}' is not a token search parameter of {resourceType ?? "any resource type"}";
            return null;
        }

        var values = new List<(string?, string?)>();
        foreach (var raw in pair[(equals + 1)..].Split(','))
        {
            string value;
            try
            {
                value = Uri.UnescapeDataString(raw);
            }
            catch (UriFormatException)
            {
                problem = $"the value of '{name}' is not well encoded";
                return null;
            }

            var bar = value.IndexOf('|', StringComparison.Ordinal);
            values.Add(bar < 0 ? (null, value) : (value[..bar], value[(bar + 1)..]));
            if (bar >= 0 && value[..bar].Length == 0 && value[(bar + 1)..].Length == 0)
            {
                problem = $"the value of '{name}' is empty";
                return null;
            }
        }

        return new ScopeCondition(name, [.. values]);
    }

    /// <summary>
    /// Whether <paramref name="resource"/> matches; false when it cannot be evaluated (fail closed).
    /// The resource's typed element is built once, and each search parameter's tokens evaluated
    /// once, for every condition of every scope that asks (<see cref="ResourceTokens"/>).
    /// </summary>
    public bool Matches(JsonObject resource, string resourceType) => Matches(resource, resource, resourceType);

    /// <summary>As <see cref="Matches(JsonObject, string)"/>, what was evaluated kept with <paramref name="judgement"/> (the facts of one inspection: a node changed later is inspected anew).</summary>
    internal bool Matches(object judgement, JsonObject resource, string resourceType)
    {
        var expression = _expression is { } last && last.ResourceType == resourceType ? last : _expression = new Expression(resourceType, Definitions[(resourceType, Name)].FirstOrDefault()?.Expression);
        if (expression.Text is null || ResourceTokens.Of(judgement, resource).Tokens(resourceType, Name, expression.Text) is not { } tokens)
        {
            return false;
        }

        foreach (var token in tokens)
        {
            foreach (var wanted in _values)
            {
                if (Matches(wanted, token))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private sealed record Expression(string ResourceType, string? Text);

    /// <summary>
    /// What conditions read of one resource: the tokens each search parameter's expression yields on
    /// it (evaluated on first need: from its JSON by <see cref="TokenPaths"/> when the expression is
    /// only paths, otherwise by Firely's FHIRPath on its typed element, built once), kept with
    /// the judgement (the resource's facts from one inspection) for as long as it lives. A resource judged against 255 scopes of 76
    /// conditions is parsed once, not 19,380 times.
    /// </summary>
    private sealed class ResourceTokens(JsonObject resource)
    {
        private static readonly ConditionalWeakTable<object, ResourceTokens> Evaluated = new();

        private readonly Lock _gate = new();
        private readonly Dictionary<string, (string? System, string? Code)[]?> _byParameter = new(StringComparer.Ordinal);
        private ITypedElement? _typed;
        private bool _unreadable;

        public static ResourceTokens Of(object judgement, JsonObject resource)
            => Evaluated.TryGetValue(judgement, out var known) ? known : Evaluated.GetValue(judgement, _ => new ResourceTokens(resource));

        /// <summary>The tokens of the parameter <paramref name="name"/> (by its FHIRPath <paramref name="expression"/>); null when the resource cannot be evaluated.</summary>
        public (string? System, string? Code)[]? Tokens(string resourceType, string name, string expression)
        {
            lock (_gate)
            {
                if (_byParameter.TryGetValue(name, out var known))
                {
                    return known;
                }

                ExpressionsEvaluated++;
                var tokens = TokenPaths.For(resourceType, expression)?.Evaluate(resource) ?? Evaluate(expression);
                _byParameter[name] = tokens;
                return tokens;
            }
        }

        private (string? System, string? Code)[]? Evaluate(string expression)
        {
            try
            {
                if (_unreadable)
                {
                    return null;
                }

                if (_typed is null)
                {
                    TypedElementsBuilt++;
                    _typed = Typed(resource);
                }

                return FirelyTokens(_typed, expression);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _unreadable = _typed is null;
                return null;
            }
        }
    }

    /// <summary>The resource as Firely's FHIRPath engine reads it.</summary>
    internal static ITypedElement Typed(JsonObject resource) => FhirJsonNode.Parse(resource.ToJsonString(FhirJson.Output)).ToTypedElement(Provider, null, Lenient);

    /// <summary>The tokens <paramref name="expression"/> yields on <paramref name="typed"/>, by Firely's FHIRPath engine.</summary>
    internal static (string? System, string? Code)[] FirelyTokens(ITypedElement typed, string expression)
        => typed.Select(expression, new EvaluationContext()).SelectMany(Tokens).ToArray();

    private static bool Matches((string? System, string? Code) wanted, (string? System, string? Code) actual) => wanted switch
    {
        (null, var code) => actual.Code == code, // code: any system
        ("", var code) => actual.System is null && actual.Code == code, // |code: no system
        (var system, "") => actual.System == system, // system|: any code of it
        var (system, code) => actual.System == system && actual.Code == code,
    };

    /// <summary>The (system, code) pairs an element holds, as FHIR token search reads them.</summary>
    private static IEnumerable<(string? System, string? Code)> Tokens(ITypedElement element)
    {
        string? Child(string name) => element.Children(name).FirstOrDefault()?.Value?.ToString();
        switch (element.InstanceType)
        {
            case "CodeableConcept":
                return element.Children("coding").SelectMany(Tokens);
            case "Coding":
                return [(Child("system"), Child("code"))];
            case "Identifier":
                return [(Child("system"), Child("value"))];
            case "ContactPoint":
                return [(null, Child("value"))];
            case "boolean":
                return [(null, element.Value is bool b ? (b ? "true" : "false") : null)];
            default:
                return element.Value is { } value ? [(null, value.ToString())] : [];
        }
    }
}
