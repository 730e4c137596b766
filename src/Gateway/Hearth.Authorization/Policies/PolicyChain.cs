using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Policies;

/// <summary>The policies Hearth knows by name, and the chain HEARTH_POLICIES makes of them.</summary>
public static class PolicyChain
{
    /// <summary>Every policy by its HEARTH_POLICIES name. <c>token</c> comes first in every chain (only it grants).</summary>
    public static IReadOnlyDictionary<string, Func<RuleSettings, IResourcePolicy>> Registered { get; } =
        new Dictionary<string, Func<RuleSettings, IResourcePolicy>>(StringComparer.Ordinal)
        {
            [TokenPolicy.PolicyName] = _ => new TokenPolicy(),
            [ConsentPolicy.PolicyName] = settings => new ConsentPolicy(settings),
        };

    /// <summary>The chain <paramref name="settings"/> names, in order.</summary>
    public static IReadOnlyList<IResourcePolicy> For(RuleSettings settings)
        => settings.Policies.Select(name => Registered[name](settings)).ToList();

    /// <summary>Why <paramref name="names"/> is not a chain (unknown or repeated names, token not first); null when it is.</summary>
    public static string? Problem(IReadOnlyList<string> names)
    {
        if (names.Count == 0 || names[0] != TokenPolicy.PolicyName)
        {
            return "the token policy comes first";
        }

        if (names.FirstOrDefault(n => !Registered.ContainsKey(n)) is { } unknown)
        {
            return $"'{(unknown.Length <= 32 ? unknown : unknown[..32])}' is not a policy (known: {string.Join(", ", Registered.Keys)})";
        }

        return names.Distinct(StringComparer.Ordinal).Count() != names.Count ? "a policy is named twice" : null;
    }
}
