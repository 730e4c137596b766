namespace Hearth.Authorization.Fhir;

/// <summary>A Patient's designated identifier (system|value), the key Pauldron permissions name patients by.</summary>
public sealed record PatientIdentifier(string? System, string Value)
{
    public override string ToString() => $"{System}|{Value}";

    /// <summary>
    /// Chooses the identifier whose system comes first in <paramref name="designatedSystems"/>,
    /// else the first identifier with a value; null when there is none.
    /// </summary>
    public static PatientIdentifier? Choose(IReadOnlyList<PatientIdentifier> identifiers, IReadOnlyList<string> designatedSystems)
    {
        foreach (var system in designatedSystems)
        {
            foreach (var identifier in identifiers)
            {
                if (string.Equals(identifier.System, system, StringComparison.Ordinal))
                {
                    return identifier;
                }
            }
        }

        return identifiers.Count > 0 ? identifiers[0] : null;
    }
}
