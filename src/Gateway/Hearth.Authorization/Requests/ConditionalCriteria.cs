using System.Net;
using Hearth.Authorization.Fhir;
using Hl7.Fhir.Model;

namespace Hearth.Authorization.Requests;

/// <summary>
/// The search criteria of a conditional interaction: a create's <c>If-None-Exist</c>, or the
/// query of <c>PUT</c>/<c>PATCH</c>/<c>DELETE [type]?criteria</c>. Only criteria are allowed:
/// search parameters the FHIR R4 model defines for the type (or for every resource), with their
/// modifiers and chains, <c>_id</c>, <c>_lastUpdated</c>, <c>_tag</c>, <c>_profile</c>,
/// <c>_security</c>, <c>_source</c>, <c>_text</c>, <c>_content</c>, <c>_list</c>, <c>_has</c>
/// and <c>_filter</c>; what shapes a result (<c>_count</c>, <c>_sort</c>, <c>_include</c>,
/// <c>_summary</c>, ...), an unknown parameter, an empty criterion and a token are refused. Hearth
/// resolves the criteria itself by a search with the token's view, so it sends them to the FHIR
/// server as it read them (<see cref="Query"/>), never as the client wrote them.
/// </summary>
public sealed class ConditionalCriteria
{
    /// <summary>The parameters that filter (the rest of the <c>_</c> names shape a result or are not criteria).</summary>
    private static readonly HashSet<string> CommonCriteria = new(StringComparer.Ordinal)
    {
        "_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_text", "_content", "_list", "_filter",
    };

    private static readonly ILookup<string, string> Parameters =
        ModelInfo.SearchParameters.Where(d => d.Resource is not null && d.Name is not null).ToLookup(d => d.Resource!, d => d.Name!);

    private ConditionalCriteria(string resourceType, IReadOnlyList<KeyValuePair<string, string>> criteria)
    {
        ResourceType = resourceType;
        Criteria = criteria;
    }

    public string ResourceType { get; }

    /// <summary>Each criterion as name and (decoded) value, in the order given.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Criteria { get; }

    /// <summary>The criteria encoded again, as Hearth sends them to the FHIR server.</summary>
    public string Query => string.Join('&', Criteria.Select(c => Uri.EscapeDataString(c.Key) + "=" + Uri.EscapeDataString(c.Value)));

    /// <summary>The criteria as name → values, for <see cref="SearchCriteria"/> and <see cref="SearchLimits"/>.</summary>
    public IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> Named
        => Criteria.GroupBy(c => c.Key, StringComparer.Ordinal).Select(g => KeyValuePair.Create(g.Key, (IReadOnlyList<string>)g.Select(c => c.Value).ToList()));

    /// <summary>
    /// Reads criteria in query form (<c>identifier=a|b&amp;status=final</c>, an optional leading
    /// <c>?</c>); null with a sentence saying what is wrong when they are not criteria Hearth can resolve.
    /// </summary>
    public static ConditionalCriteria? Parse(string resourceType, string query, out string? error)
    {
        var criteria = new List<KeyValuePair<string, string>>();
        foreach (var part in query.StartsWith('?') ? query[1..].Split('&') : query.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=');
            var name = equals < 0 ? null : Decode(part[..equals]);
            var value = equals < 0 ? null : Decode(part[(equals + 1)..]);
            if (name is null || value is null || name.Length == 0 || value.Length == 0)
            {
                error = "Each criterion of a conditional interaction needs a name and a value (name=value).";
                return null;
            }

            if (Problem(resourceType, name) is { } problem)
            {
                error = problem;
                return null;
            }

            criteria.Add(KeyValuePair.Create(name, value));
        }

        if (criteria.Count == 0)
        {
            error = "A conditional interaction needs search criteria (for example identifier=system|value).";
            return null;
        }

        var result = new ConditionalCriteria(resourceType, criteria);
        error = SearchLimits.Check(result.Named);
        return error is null ? result : null;
    }

    /// <summary>Why a parameter is not a criterion of the type; null when it is one.</summary>
    private static string? Problem(string resourceType, string name)
    {
        if (name.Any(c => c is < '!' or > '~'))
        {
            return "A criterion's name must be printable ASCII.";
        }

        if (name.StartsWith("_has:", StringComparison.Ordinal))
        {
            return null; // a reverse chain; what it reaches is judged by SearchCriteria
        }

        var code = name.Split(':', '.')[0];
        if (code.StartsWith('_'))
        {
            return CommonCriteria.Contains(code) ? null : $"{Printable(name)} is not a search criterion; a conditional interaction takes criteria only.";
        }

        return Parameters[resourceType].Concat(Parameters["Resource"]).Concat(Parameters["DomainResource"]).Contains(code, StringComparer.Ordinal)
            ? null
            : $"{Printable(code)} is not a search parameter of {resourceType}.";
    }

    /// <summary>Percent-decoded ('+' is a space, as in a form); null when the result is not valid UTF-8 text.</summary>
    private static string? Decode(string text)
    {
        var decoded = WebUtility.UrlDecode(text);
        return decoded.Contains('\uFFFD', StringComparison.Ordinal) && !text.Contains('\uFFFD', StringComparison.Ordinal) ? null : decoded;
    }

    private static string Printable(string name) => name.Length <= 64 && name.All(c => c is >= ' ' and <= '~') ? name : "(a parameter)";
}
