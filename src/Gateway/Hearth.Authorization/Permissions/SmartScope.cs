using System.Text.RegularExpressions;

namespace Hearth.Authorization.Permissions;

/// <summary>Whose data a SMART scope is about.</summary>
public enum SmartContext
{
    /// <summary><c>patient/</c>: the patient in context (the token's <c>patient</c> claim) only.</summary>
    Patient,

    /// <summary><c>user/</c>: whatever the user may see; the authorization server decided which patients.</summary>
    User,

    /// <summary><c>system/</c>: a backend service, every patient.</summary>
    System,
}

/// <summary>SMART v2 permissions, <c>c r u d s</c>.</summary>
[Flags]
public enum SmartPermissions
{
    None = 0,
    Create = 1,
    Read = 2,
    Update = 4,
    Delete = 8,
    Search = 16,
    All = Create | Read | Update | Delete | Search,
}

/// <summary>
/// One SMART on FHIR clinical scope (App Launch 2.x and v1):
/// <c>(patient|user|system)/(Type|*).(cruds subset|read|write|*)[?param=value&amp;...]</c>. v1
/// <c>read</c> is <c>rs</c>, <c>write</c> is <c>cud</c>, <c>*</c> is <c>cruds</c>. SMART scopes
/// say nothing of security labels: they grant every label (a Pauldron deny in the same token
/// still applies).
/// </summary>
public sealed partial class SmartScope
{
    private readonly ScopeCondition[] _conditions;

    private SmartScope(string text, SmartContext context, string? resourceType, SmartPermissions permissions, IReadOnlyList<ScopeCondition> conditions)
    {
        Text = text;
        Context = context;
        ResourceType = resourceType;
        Permissions = permissions;
        _conditions = [.. conditions];
    }

    public string Text { get; }

    public SmartContext Context { get; }

    /// <summary>The resource type; null for <c>*</c>.</summary>
    public string? ResourceType { get; }

    public SmartPermissions Permissions { get; }

    /// <summary>A granular scope's conditions: a resource is covered only when it matches every one.</summary>
    public IReadOnlyList<ScopeCondition> Conditions => _conditions;

    /// <summary>
    /// Reads one scope. Null with no problem for a scope that is not a clinical scope
    /// (<c>openid</c>, <c>fhirUser</c>, <c>launch/patient</c>, <c>offline_access</c>, ...): it
    /// grants nothing. Null with the problem for a clinical scope Hearth cannot honour (malformed,
    /// or a condition it cannot evaluate): it grants nothing either, and the problem is worth a log line.
    /// </summary>
    public static SmartScope? Parse(string text, out string? problem)
    {
        problem = null;
        var prefix = PrefixPattern().Match(text);
        if (!prefix.Success)
        {
            return null;
        }

        var match = ScopePattern().Match(text);
        if (!match.Success)
        {
            problem = "not a well-formed SMART scope";
            return null;
        }

        var type = match.Groups["type"].Value;
        if (type != "*" && !Fhir.FhirModel.R4.IsResourceType(type))
        {
            problem = $"{type} is not a FHIR R4 resource type";
            return null;
        }

        if (ReadPermissions(match.Groups["permissions"].Value) is not { } permissions)
        {
            problem = "its permissions are not a subset of c, r, u, d, s in that order, nor read, write or *";
            return null;
        }

        var conditions = new List<ScopeCondition>();
        if (match.Groups["query"].Success)
        {
            foreach (var pair in match.Groups["query"].Value.Split('&'))
            {
                if (ScopeCondition.Parse(type == "*" ? null : type, pair, out problem) is not { } condition)
                {
                    return null;
                }

                conditions.Add(condition);
            }
        }

        var context = match.Groups["context"].Value switch
        {
            "patient" => SmartContext.Patient,
            "user" => SmartContext.User,
            _ => SmartContext.System,
        };
        return new SmartScope(text, context, type == "*" ? null : type, permissions, conditions);
    }

    /// <summary>The permission <paramref name="action"/> needs; a bulk export needs reading and searching, by a <c>system/</c> scope.</summary>
    public bool Allows(FhirAction action) => action switch
    {
        FhirAction.Read => Permissions.HasFlag(SmartPermissions.Read),
        FhirAction.Search => Permissions.HasFlag(SmartPermissions.Search),
        FhirAction.Create => Permissions.HasFlag(SmartPermissions.Create),
        FhirAction.Update => Permissions.HasFlag(SmartPermissions.Update),
        FhirAction.Delete => Permissions.HasFlag(SmartPermissions.Delete),
        FhirAction.BulkExport => Context == SmartContext.System && Permissions.HasFlag(SmartPermissions.Read | SmartPermissions.Search),
        _ => false,
    };

    public bool CoversType(string? resourceType) => ResourceType is null || ResourceType == resourceType;

    /// <summary>
    /// Whether this scope covers <paramref name="required"/>: its type, its action, and for a
    /// <c>patient/</c> scope every patient of the resource being exactly
    /// <c>Patient/{<paramref name="patient"/>}</c> on the FHIR server (never by identifier; without a
    /// patient in context it covers nothing); for a granular scope, the resource matching every condition.
    /// </summary>
    public bool Grants(RequiredPermission required, string? patient)
    {
        if (!CoversType(required.ResourceType) || !Allows(required.Action))
        {
            return false;
        }

        if (Context == SmartContext.Patient
            && (patient is null || required.Patients is not { Count: > 0 } patients || patients.Any(p => p.Reference != "Patient/" + patient)))
        {
            return false;
        }

        if (Conditions.Count == 0)
        {
            return true;
        }

        if (required.Resource is not { } resource)
        {
            return false;
        }

        var judgement = (object?)required.Facts ?? resource;
        for (var i = 0; i < _conditions.Length; i++) // (an array: no enumerator per resource judged)
        {
            if (!_conditions[i].Matches(judgement, resource, required.ResourceType))
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => Text;

    private static SmartPermissions? ReadPermissions(string text)
    {
        switch (text)
        {
            case "read":
                return SmartPermissions.Read | SmartPermissions.Search;
            case "write":
                return SmartPermissions.Create | SmartPermissions.Update | SmartPermissions.Delete;
            case "*":
                return SmartPermissions.All;
        }

        if (!V2Pattern().IsMatch(text))
        {
            return null;
        }

        var permissions = SmartPermissions.None;
        foreach (var letter in text)
        {
            permissions |= letter switch
            {
                'c' => SmartPermissions.Create,
                'r' => SmartPermissions.Read,
                'u' => SmartPermissions.Update,
                'd' => SmartPermissions.Delete,
                _ => SmartPermissions.Search,
            };
        }

        return permissions;
    }

    [GeneratedRegex("^(patient|user|system)/", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    [GeneratedRegex(@"^(?<context>patient|user|system)/(?<type>\*|[A-Z][A-Za-z]{1,63})\.(?<permissions>[a-z]{1,5}|\*)(\?(?<query>[^\s?#]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ScopePattern();

    [GeneratedRegex("^(?=.)c?r?u?d?s?$", RegexOptions.CultureInvariant)]
    private static partial Regex V2Pattern();
}
