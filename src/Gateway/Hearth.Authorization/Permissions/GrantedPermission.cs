using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// One Pauldron permission about FHIR (a <c>resource_set_id</c> object with patientId,
/// resourceType and optional securityLabel, and <c>scopes</c> of either shape), granted or denied;
/// with <c>purposeOfUse</c> (codes of v3-ActReason, or Codings), only for a token that states one
/// of those purposes (<see cref="AppliesTo"/>).
/// </summary>
internal sealed class GrantedPermission
{
    private GrantedPermission(bool deny, ValueMatcher<PatientIdentifier> patient, ValueMatcher<string> resourceType, IReadOnlyList<ScopeGrant> scopes)
    {
        Deny = deny;
        Patient = patient;
        ResourceType = resourceType;
        Scopes = scopes;
    }

    public bool Deny { get; }
    public ValueMatcher<PatientIdentifier> Patient { get; }
    public ValueMatcher<string> ResourceType { get; }
    public IReadOnlyList<ScopeGrant> Scopes { get; }

    /// <summary>The purposes of use this permission is for; null: any (or none stated).</summary>
    public IReadOnlyList<string>? Purposes { get; private init; }

    /// <summary>A <c>purposeOfUse</c> that cannot be read: such a grant grants nothing, such a deny always denies.</summary>
    public bool PurposesUnreadable { get; private init; }

    /// <summary>Whether the permission holds for a token that states <paramref name="purposes"/>.</summary>
    public bool AppliesTo(IReadOnlyList<string> purposes)
        => PurposesUnreadable ? Deny : Purposes is null || Purposes.Any(p => purposes.Contains(p, StringComparer.Ordinal));

    internal sealed record ScopeGrant(ValueMatcher<string> Action, ValueMatcher<SecurityLabel> Labels);

    /// <summary>Any action, any label: what a SMART scope grants of labels.</summary>
    internal static ScopeGrant AnyLabel { get; } = new(ValueMatcher<string>.Wildcard, ValueMatcher<SecurityLabel>.Wildcard);

    /// <summary>Null when the element is not a permission about FHIR (it is then ignored).</summary>
    public static GrantedPermission? TryParse(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("resource_set_id", out var rsid)
            || rsid.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var deny = element.TryGetProperty("deny", out var d) && d.ValueKind == JsonValueKind.True;
        var patient = ValueMatcher<PatientIdentifier>.Parse(Property(rsid, "patientId"), ReadPatient);
        var type = ValueMatcher<string>.Parse(Property(rsid, "resourceType"), ReadString);
        var rsidLabels = ValueMatcher<SecurityLabel>.Parse(Property(rsid, "securityLabel") ?? Property(rsid, "securityLabels"), ReadLabel);

        var scopes = new List<ScopeGrant>();
        var scopesElement = Property(element, "scopes");
        if (scopesElement is { ValueKind: JsonValueKind.Array } array)
        {
            foreach (var scope in array.EnumerateArray())
            {
                if (scope.ValueKind == JsonValueKind.String)
                {
                    scopes.Add(new ScopeGrant(ValueMatcher<string>.Parse(scope, ReadString), rsidLabels));
                }
                else if (scope.ValueKind == JsonValueKind.Object)
                {
                    var labels = Property(scope, "securityLabels") ?? Property(scope, "securityLabel");
                    scopes.Add(new ScopeGrant(
                        ValueMatcher<string>.Parse(Property(scope, "action"), ReadString),
                        labels is null ? rsidLabels : ValueMatcher<SecurityLabel>.Parse(labels, ReadLabel)));
                }
                else
                {
                    scopes.Add(new ScopeGrant(ValueMatcher<string>.Invalid, rsidLabels));
                }
            }
        }
        else if (scopesElement is { ValueKind: JsonValueKind.String } s && s.GetString() == "*")
        {
            scopes.Add(new ScopeGrant(ValueMatcher<string>.Wildcard, rsidLabels));
        }
        else if (deny)
        {
            // A deny whose scopes cannot be read denies every action: fail closed.
            scopes.Add(new ScopeGrant(ValueMatcher<string>.Wildcard, rsidLabels));
        }

        var purposes = Property(element, "purposeOfUse") is { } purposeOfUse ? ReadPurposes(purposeOfUse) : [];
        return new GrantedPermission(deny, patient, type, scopes) { Purposes = purposes is { Count: 0 } ? null : purposes, PurposesUnreadable = purposes is null };
    }

    /// <summary>A <c>purposeOfUse</c>: a code, or an array of codes or Codings (of v3-ActReason); null when it is something else.</summary>
    private static List<string>? ReadPurposes(JsonElement value)
    {
        var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
        var purposes = new List<string>();
        foreach (var item in items)
        {
            var code = item.ValueKind == JsonValueKind.String ? item.GetString()
                : item.ValueKind == JsonValueKind.Object && (!item.TryGetProperty("system", out var system) || (system.ValueKind == JsonValueKind.String && system.GetString() == Tokens.TokenClaims.ActReason))
                  && item.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            if (string.IsNullOrEmpty(code))
            {
                return null;
            }

            purposes.Add(code);
        }

        return purposes.Count == 0 ? null : purposes;
    }

    /// <summary>Whether this grant could ever permit <paramref name="action"/> on <paramref name="resourceType"/>, whatever the patients and labels.</summary>
    public bool CouldGrant(string resourceType, FhirAction action)
        => ResourceType.Grants(resourceType, string.Equals) && Scopes.Any(s => s.Action.Grants(action.Name(), string.Equals));

    /// <summary>Grant semantics: every dimension of the required permission is covered.</summary>
    public bool Grants(RequiredPermission required)
    {
        if (!GrantsPatients(required.Patients) || !ResourceType.Grants(required.ResourceType, string.Equals))
        {
            return false;
        }

        foreach (var scope in Scopes)
        {
            if (scope.Action.Grants(required.Action.Name(), string.Equals) && GrantsLabels(scope.Labels, required.Labels))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Deny semantics: overlaps the required permission in every dimension.</summary>
    public bool Overlaps(RequiredPermission required)
    {
        // A deny excludes the person: it applies when it names any identifier of a patient, and to
        // a patient whose identifiers are unknown (it might be the one it names: fail closed).
        var patientOverlaps = Patient.Kind != ValueMatcher<PatientIdentifier>.MatcherKind.Values
            || (required.Patients is { } patients && patients.Any(p => p.Designated is not { } designated
                || p.Identifiers.Append(designated).Any(i => Patient.Overlaps(i, PatientMatches))));
        if (!patientOverlaps || !ResourceType.Overlaps(required.ResourceType, string.Equals))
        {
            return false;
        }

        foreach (var scope in Scopes)
        {
            if (!scope.Action.Overlaps(required.Action.Name(), string.Equals))
            {
                continue;
            }

            if (scope.Labels.Kind != ValueMatcher<SecurityLabel>.MatcherKind.Values
                || required.Labels.Any(l => scope.Labels.Overlaps(l, LabelMatches)))
            {
                return true;
            }
        }

        return false;
    }

    private bool GrantsPatients(IReadOnlyList<ResolvedPatient>? patients)
    {
        if (patients is null)
        {
            return Patient.Kind == ValueMatcher<PatientIdentifier>.MatcherKind.Wildcard; // outside the Patient compartment
        }

        // Inside, every patient must be identified and granted, by its designated identifier
        // (Pauldron's rule; patientId "*" grants any identified patient).
        if (patients.Count == 0)
        {
            return false;
        }

        for (var i = 0; i < patients.Count; i++) // no closure or enumerator made: this runs for every resource judged
        {
            if (patients[i].Designated is not { } designated
                || (Patient.Kind != ValueMatcher<PatientIdentifier>.MatcherKind.Wildcard && !Patient.Grants(designated, PatientMatches)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool GrantsLabels(ValueMatcher<SecurityLabel> granted, IReadOnlyList<SecurityLabel> labels) => granted.Kind switch
    {
        ValueMatcher<SecurityLabel>.MatcherKind.Wildcard => true,
        ValueMatcher<SecurityLabel>.MatcherKind.Absent => labels.Count == 0,
        ValueMatcher<SecurityLabel>.MatcherKind.Values => GrantsEach(granted, labels),
        _ => false,
    };

    /// <summary>Whether every label is granted (a method of its own: a lambda here made a closure on every call, whatever the matcher's kind).</summary>
    private static bool GrantsEach(ValueMatcher<SecurityLabel> granted, IReadOnlyList<SecurityLabel> labels)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (!granted.Grants(labels[i], LabelMatches))
            {
                return false;
            }
        }

        return true;
    }

    private static bool PatientMatches(PatientIdentifier pattern, PatientIdentifier actual)
        => (pattern.System == "*" || string.Equals(pattern.System, actual.System, StringComparison.Ordinal))
        && (pattern.Value == "*" || string.Equals(pattern.Value, actual.Value, StringComparison.Ordinal));

    private static bool LabelMatches(SecurityLabel pattern, SecurityLabel actual)
        => (pattern.System == "*" || string.Equals(pattern.System, actual.System, StringComparison.Ordinal))
        && (pattern.Code == "*" || string.Equals(pattern.Code, actual.Code, StringComparison.Ordinal));

    private static JsonElement? Property(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : null;

    private static string? ReadString(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    private static PatientIdentifier? ReadPatient(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || Property(e, "value") is not { ValueKind: JsonValueKind.String } value)
        {
            return null;
        }

        var system = Property(e, "system");
        if (system is { } s && s.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            return null;
        }

        return new PatientIdentifier(system?.ValueKind == JsonValueKind.String ? system.Value.GetString() : null, value.GetString()!);
    }

    private static SecurityLabel? ReadLabel(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || Property(e, "code") is not { ValueKind: JsonValueKind.String } code)
        {
            return null;
        }

        var system = Property(e, "system");
        return new SecurityLabel(system?.ValueKind == JsonValueKind.String ? system.Value.GetString() : null, code.GetString());
    }
}
