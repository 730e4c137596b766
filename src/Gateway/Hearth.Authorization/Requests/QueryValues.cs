namespace Hearth.Authorization.Requests;

/// <summary>Search-style parameter values: each may list several, comma-separated.</summary>
public static class QueryValues
{
    /// <summary>Every listed value, trimmed, without empty ones or repeats, in order.</summary>
    public static List<string> Split(IEnumerable<string?> values)
        => values.SelectMany(v => (v ?? "").Split(',')).Select(v => v.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).ToList();
}
