using System.Text.Json;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// One dimension of a Pauldron permission: <c>"*"</c>, a value, an array of values, absent, or
/// something that cannot be read. A grant matches when every required value is among its values
/// (wildcard: anything, including absent). A deny overlaps when any required value is among its
/// values; an absent or unreadable deny dimension overlaps everything (fail closed).
/// </summary>
internal sealed class ValueMatcher<T>
{
    public enum MatcherKind { Wildcard, Values, Absent, Invalid }

    private ValueMatcher(MatcherKind kind, IReadOnlyList<T> values)
    {
        Kind = kind;
        Values = values;
    }

    public MatcherKind Kind { get; }
    public IReadOnlyList<T> Values { get; }

    public static ValueMatcher<T> Wildcard { get; } = new(MatcherKind.Wildcard, []);
    public static ValueMatcher<T> Absent { get; } = new(MatcherKind.Absent, []);
    public static ValueMatcher<T> Invalid { get; } = new(MatcherKind.Invalid, []);

    /// <summary>Reads a value, an array of values or "*"; <paramref name="read"/> returns null for an unreadable element.</summary>
    public static ValueMatcher<T> Parse(JsonElement? element, Func<JsonElement, T?> read)
    {
        if (element is not { } e || e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return Absent;
        }

        if (e.ValueKind == JsonValueKind.String && e.GetString() == "*")
        {
            return Wildcard;
        }

        var values = new List<T>();
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() == "*")
                {
                    return Wildcard;
                }

                var value = read(item);
                if (value is null)
                {
                    return Invalid;
                }

                values.Add(value);
            }
        }
        else
        {
            var value = read(e);
            if (value is null)
            {
                return Invalid;
            }

            values.Add(value);
        }

        return new ValueMatcher<T>(MatcherKind.Values, values);
    }

    /// <summary>Grant semantics for one required value (null = the resource has none).</summary>
    public bool Grants(T? required, Func<T, T, bool> matches) => Kind switch
    {
        MatcherKind.Wildcard => true,
        MatcherKind.Absent => required is null,
        MatcherKind.Values => required is not null && AnyMatches(required, matches),
        _ => false,
    };

    /// <summary>Deny semantics for one required value (null = the resource has none).</summary>
    public bool Overlaps(T? required, Func<T, T, bool> matches) => Kind switch
    {
        MatcherKind.Values => required is not null && AnyMatches(required, matches),
        _ => true,
    };

    /// <summary>On every judgement: a loop, not a closure per call.</summary>
    private bool AnyMatches(T required, Func<T, T, bool> matches)
    {
        for (var i = 0; i < Values.Count; i++)
        {
            if (matches(Values[i], required))
            {
                return true;
            }
        }

        return false;
    }
}
