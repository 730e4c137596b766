using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hl7.Fhir.Model;

namespace Hearth.Authorization.Requests;

/// <summary>
/// Search criteria that make the FHIR server evaluate resources other than the ones it returns:
/// chained parameters (<c>subject:Patient.family</c>, <c>subject.name</c>, any depth), reverse
/// chains (<c>_has</c>), <c>_filter</c>, <c>_list</c>, <c>_query</c>, <c>_contained</c> and
/// <c>_containedType</c>. Hearth judges every resource a search returns, but not the ones its
/// criteria looked at: which entries come back tells whether another resource matched. Such a
/// criterion is allowed only when the token may read every resource of every type it reaches.
/// </summary>
public static class SearchCriteria
{
    /// <summary>Criteria that can look at resources of any type.</summary>
    private static readonly HashSet<string> AnyType = ["_filter", "_query", "_contained", "_containedType"];

    private static readonly ILookup<(string Resource, string Name), SearchParamDefinition> Definitions =
        ModelInfo.SearchParameters.ToLookup(d => (d.Resource ?? "", d.Name ?? ""));

    /// <summary>
    /// The resource types a parameter makes the FHIR server evaluate besides the searched ones:
    /// empty when none (an ordinary parameter); null when it could be any type. Malformed chains
    /// count as any type.
    /// </summary>
    /// <param name="baseType">The searched type; null for a search of every type.</param>
    public static IReadOnlyList<string>? Reach(string? baseType, string parameter)
    {
        var name = parameter.Split(':')[0];
        if (AnyType.Contains(name))
        {
            return null;
        }

        if (name == "_list")
        {
            return ["List"];
        }

        if (parameter.StartsWith("_has:", StringComparison.Ordinal))
        {
            return ReverseChain(parameter);
        }

        return parameter.Contains('.', StringComparison.Ordinal) ? Chain(baseType, parameter) : [];
    }

    /// <summary>
    /// The first parameter whose criterion reaches resources the token may not all read, with the
    /// types it reaches (null: any); null when every criterion is allowed. The names a <c>_sort</c>
    /// lists count as criteria too (the order of what is returned would tell what they found). A
    /// type of UNPROTECTED_RESOURCE_TYPES is readable by anyone.
    /// </summary>
    public static (string Parameter, IReadOnlyList<string>? Types)? Unreadable(
        string? baseType, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> parameters, PermissionSet permissions, RuleSettings settings)
    {
        foreach (var (name, values) in parameters)
        {
            var criteria = name == "_sort" ? QueryValues.Split(values).Select(v => v.TrimStart('-')).Prepend(name) : [name];
            foreach (var criterion in criteria)
            {
                var reach = Reach(baseType, criterion);
                var readable = reach is null
                    ? permissions.ReadsEverything(null)
                    : reach.All(t => settings.UnprotectedResourceTypes.Contains(t) || permissions.ReadsEverything(t));
                if (!readable)
                {
                    return (criterion, reach);
                }
            }
        }

        return null;
    }

    /// <summary><c>_has:Type:param:criterion</c>, nested or chained in its turn.</summary>
    private static IReadOnlyList<string>? ReverseChain(string parameter)
    {
        var parts = parameter.Split(':', 4);
        if (parts.Length < 4 || !FhirModel.R4.IsResourceType(parts[1]) || parts[2].Length == 0 || parts[3].Length == 0)
        {
            return null;
        }

        var rest = Reach(parts[1], parts[3]);
        return rest is null ? null : rest.Prepend(parts[1]).Distinct().ToList();
    }

    /// <summary><c>link[:Type].link[:Type]...criterion</c>: every type a link can point at, from the searched type on.</summary>
    private static IReadOnlyList<string>? Chain(string? baseType, string parameter)
    {
        var links = parameter.Split('.');
        IReadOnlyList<string>? from = baseType is null ? null : [baseType];
        var reached = new List<string>();
        for (var i = 0; i < links.Length - 1; i++)
        {
            var colon = links[i].IndexOf(':');
            var name = colon < 0 ? links[i] : links[i][..colon];
            var modifier = colon < 0 ? null : links[i][(colon + 1)..];
            IReadOnlyList<string>? targets;
            if (modifier is not null)
            {
                targets = FhirModel.R4.IsResourceType(modifier) ? [modifier] : null;
            }
            else
            {
                targets = from is null ? null : Targets(from, name);
            }

            if (targets is null || name.Length == 0)
            {
                return null;
            }

            reached.AddRange(targets.Where(t => !reached.Contains(t)));
            from = targets;
        }

        return reached;
    }

    /// <summary>The types a reference parameter of <paramref name="types"/> can point at; null when unknown.</summary>
    private static List<string>? Targets(IReadOnlyList<string> types, string name)
    {
        var targets = new List<string>();
        foreach (var type in types)
        {
            var definitions = Definitions[(type, name)].Concat(Definitions[("Resource", name)]).Concat(Definitions[("DomainResource", name)]).ToList();
            if (definitions.Count == 0 || definitions.Any(d => d.Target is not { Length: > 0 }))
            {
                return null;
            }

            targets.AddRange(definitions.SelectMany(d => d.Target!).Select(t => t.ToString()).Where(t => !targets.Contains(t)).Distinct());
        }

        return targets;
    }
}
