namespace Hearth.Authorization.Requests;

/// <summary>
/// Bounds on what one search may ask, so that a request's cost stays proportional to a reasonable
/// query (a list of a million element names or ids costs the gateway and the FHIR server per
/// resource and per name): at most <see cref="MaxParameters"/> parameters, each value a list of at
/// most <see cref="MaxListItems"/> comma-separated items.
/// </summary>
public static class SearchLimits
{
    public const int MaxParameters = 100;
    public const int MaxListItems = 100;

    /// <summary>Null when the parameters are within the bounds; else a sentence saying which is not.</summary>
    public static string? Check(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> parameters)
    {
        var count = 0;
        foreach (var (name, values) in parameters)
        {
            foreach (var value in values)
            {
                if (++count > MaxParameters)
                {
                    return $"A search may have at most {MaxParameters} parameters.";
                }

                if (Items(value) > MaxListItems)
                {
                    return $"The parameter {Printable(name)} lists more than {MaxListItems} values.";
                }
            }
        }

        return null;
    }

    /// <summary>How many comma-separated items a value lists (a comma escaped as <c>\,</c> separates nothing).</summary>
    private static int Items(string value)
    {
        var items = 1;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == ',' && ++items > MaxListItems)
            {
                break;
            }
        }

        return items;
    }

    private static string Printable(string name) => name.Length <= 64 && name.All(c => c is >= ' ' and <= '~') ? name : "(a parameter)";
}
