using System.Text.RegularExpressions;

namespace Hearth.Authorization.Fhir;

/// <summary>How a reference found on a Patient-compartment path relates to a patient.</summary>
public enum ReferenceKind
{
    /// <summary>Points at something other than a Patient: not a link to a patient.</summary>
    NotPatient,

    /// <summary>Points at a Patient on the FHIR server; <c>Reference</c> holds "Patient/{id}".</summary>
    Patient,

    /// <summary>Might point at a patient, but not one Hearth can look up (another server, urn, unparseable): fail closed.</summary>
    Unresolvable,
}

public static partial class PatientReference
{
    [GeneratedRegex("^[A-Z][A-Za-z]{1,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    [GeneratedRegex("^[A-Za-z0-9\\-\\.]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    private static bool IsValidId(ReadOnlySpan<char> id) => IdPattern().IsMatch(id);

    /// <summary>
    /// Classifies a reference string: relative (<c>Patient/1</c>, <c>Patient/1/_history/2</c>) or
    /// absolute under <paramref name="fhirServerBase"/>. Anything else that could be a Patient is
    /// <see cref="ReferenceKind.Unresolvable"/>.
    /// </summary>
    public static ReferenceKind Classify(string reference, string fhirServerBase, out string? patientReference, string? gatewayBase = null)
    {
        patientReference = null;
        if (!TryRelative(reference, fhirServerBase, out var type, out var id, gatewayBase))
        {
            return ReferenceKind.Unresolvable;
        }

        if (type != "Patient")
        {
            return FhirModel.R4.IsResourceType(type) ? ReferenceKind.NotPatient : ReferenceKind.Unresolvable;
        }

        // Most references are already "Patient/{id}": the same string, not a new one.
        patientReference = reference.Length == 8 + id.Length && reference.StartsWith("Patient/", StringComparison.Ordinal) ? reference : "Patient/" + id;
        return ReferenceKind.Patient;
    }

    /// <summary>
    /// The type and id a reference names on the FHIR server (<c>Type/id</c>, <c>Type/id/_history/v</c>,
    /// or either under <paramref name="fhirServerBase"/>, or under <paramref name="gatewayBase"/>,
    /// HEARTH_PUBLIC_BASE: the gateway's own URL of the same resource); false for anything else
    /// (another server, urn, a local reference, a malformed one).
    /// </summary>
    private static bool IsUnder(string reference, string prefix)
        => reference.Length > prefix.Length && reference[prefix.Length] == '/' && reference.StartsWith(prefix, StringComparison.Ordinal);

    public static bool TryRelative(string reference, string fhirServerBase, out string type, out string id, string? gatewayBase = null)
    {
        (type, id) = ("", "");
        ReadOnlySpan<char> relative = reference;
        if (IsUnder(reference, fhirServerBase))
        {
            relative = relative[(fhirServerBase.Length + 1)..];
        }
        else if (gatewayBase is not null && IsUnder(reference, gatewayBase))
        {
            relative = relative[(gatewayBase.Length + 1)..];
        }
        else if (reference.Contains(':', StringComparison.Ordinal) || reference.StartsWith('#') || reference.StartsWith('/'))
        {
            // Another server, urn:uuid / urn:oid, or a local reference Hearth cannot vouch for.
            return false;
        }

        // Type/id or Type/id/_history/version: split without making the parts until they are known good.
        Span<Range> parts = stackalloc Range[5];
        var count = relative.Split(parts, '/');
        if (!(count == 2 || (count == 4 && relative[parts[2]].SequenceEqual("_history") && IsValidId(relative[parts[3]])))
            || !TypePattern().IsMatch(relative[parts[0]]) || !IsValidId(relative[parts[1]]))
        {
            return false;
        }

        var typeSpan = relative[parts[0]];
        (type, id) = (typeSpan.SequenceEqual("Patient") ? "Patient" : typeSpan.ToString(), relative[parts[1]].ToString());
        return true;
    }
}
