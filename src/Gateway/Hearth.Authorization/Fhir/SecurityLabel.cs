using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Fhir;

/// <summary>A security label (a Coding in <c>meta.security</c>): system and code.</summary>
public sealed record SecurityLabel(string? System, string? Code)
{
    /// <summary>The v3-Confidentiality codes, from the least to the most confidential.</summary>
    public static IReadOnlyList<string> ConfidentialityOrder { get; } = ["U", "L", "M", "N", "R", "V"];

    public bool IsConfidentiality => System == RuleSettings.ConfidentialitySystem;

    public override string ToString() => $"{System}|{Code}";

    /// <summary>
    /// The labels of several resources judged as one: every label, except that the
    /// v3-Confidentiality codes are reduced to the highest (the high-water mark). A confidentiality
    /// code outside U..V is kept as it is (a grant must cover it).
    /// </summary>
    public static IReadOnlyList<SecurityLabel> HighWaterMark(IEnumerable<SecurityLabel> labels)
    {
        var result = new List<SecurityLabel>();
        SecurityLabel? highest = null;
        var rank = -1;
        foreach (var label in labels)
        {
            var order = label.IsConfidentiality && label.Code is { } code ? Rank(code) : -1;
            if (order >= 0)
            {
                if (order > rank)
                {
                    (highest, rank) = (label, order);
                }
            }
            else if (!result.Contains(label))
            {
                result.Add(label);
            }
        }

        if (highest is not null)
        {
            result.Insert(0, highest);
        }

        return result;
    }

    private static int Rank(string code)
    {
        for (var i = 0; i < ConfidentialityOrder.Count; i++)
        {
            if (ConfidentialityOrder[i] == code)
            {
                return i;
            }
        }

        return -1;
    }
}
