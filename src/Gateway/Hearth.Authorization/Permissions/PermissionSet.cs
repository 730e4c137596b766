using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// The permissions granted to a token, adjudicated as Pauldron does: explicitly denied → denied;
/// granted and not denied → permitted; anything else → denied. Grants are Pauldron permissions
/// and SMART scopes together (they add up); denies are Pauldron's.
/// </summary>
public sealed class PermissionSet
{
    private readonly GrantedPermission[] _grants;
    private readonly GrantedPermission[] _denies;
    private readonly SmartScope[] _smart;
    private readonly string? _patient;

    /// <summary>The most conditions of granular SMART scopes one token may carry: beyond, the token is malformed (refused, 401).</summary>
    public const int MaxConditions = 20_000;

    private PermissionSet(IEnumerable<GrantedPermission> permissions, IEnumerable<SmartScope>? smart = null, string? patient = null, IReadOnlyList<string>? problems = null)
    {
        var all = permissions.ToArray();
        _grants = all.Where(p => !p.Deny).ToArray();
        _denies = all.Where(p => p.Deny).ToArray();
        _smart = smart?.OrderBy(s => s.Conditions.Count > 0).ToArray() ?? []; // scopes without conditions first: they decide without evaluating anything
        _patient = patient;
        Problems = problems ?? [];
    }

    public static PermissionSet Empty { get; } = new([]);

    /// <summary>Who holds these permissions, as a patient's Consent sees them (the Consent policy).</summary>
    public Policies.ConsentRequester Requester { get; private set; } = Policies.ConsentRequester.Nobody;

    /// <summary>These permissions, held by <paramref name="requester"/>.</summary>
    public PermissionSet WithRequester(Policies.ConsentRequester requester)
    {
        var copy = (PermissionSet)MemberwiseClone();
        copy.Requester = requester;
        return copy;
    }

    /// <summary>How many permissions about FHIR were read (others are ignored): Pauldron permissions and SMART clinical scopes.</summary>
    public int Count => _grants.Length + _denies.Length + _smart.Length;

    /// <summary>SMART clinical scopes that grant nothing because Hearth cannot honour them, each with why (worth a log line, once per token).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Why the token cannot be used at all (more than <see cref="MaxConditions"/> scope conditions); null when it can.</summary>
    public string? Malformed { get; private init; }

    /// <summary>
    /// A token's permissions: its Pauldron permissions (a JSON array), its SMART scopes, and the
    /// patient in context (the <c>patient</c> claim, a logical id) that <c>patient/</c> scopes bind to.
    /// A Pauldron permission that names purposes of use holds only when the token states one of
    /// them (<paramref name="purposes"/>): a grant for TREAT does not serve a token asking for
    /// HPAYMT, and a deny for HMARKT does not stop a token asking for TREAT.
    /// </summary>
    /// <param name="requester">Who holds the token (its client, fhirUser and purposes), as a patient's Consent sees them.</param>
    public static PermissionSet From(string? pauldronJson, IEnumerable<string> scopes, string? patient, IReadOnlyList<string>? purposes = null,
        Policies.ConsentRequester? requester = null)
    {
        var set = FromClaims(pauldronJson, scopes, patient, purposes);
        return requester is null ? set : set.WithRequester(requester);
    }

    private static PermissionSet FromClaims(string? pauldronJson, IEnumerable<string> scopes, string? patient, IReadOnlyList<string>? purposes)
    {
        var pauldron = Parse(pauldronJson).ForPurposes(purposes ?? []);
        var smart = new List<SmartScope>();
        var problems = new List<string>();
        var conditions = 0;
        foreach (var text in scopes)
        {
            if (SmartScope.Parse(text, out var problem) is { } scope)
            {
                smart.Add(scope);
                conditions += scope.Conditions.Count;
                if (conditions > MaxConditions)
                {
                    return new PermissionSet([]) { Malformed = $"it carries more than {MaxConditions} conditions of granular scopes" };
                }
            }
            else if (problem is not null)
            {
                problems.Add($"{text}: {problem}");
            }
        }

        if (patient is null && smart.Any(s => s.Context == SmartContext.Patient))
        {
            problems.Add("patient/ scopes without a patient claim grant nothing");
        }

        return smart.Count == 0 && problems.Count == 0 ? pauldron : new PermissionSet([.. pauldron._grants, .. pauldron._denies], smart, patient, problems);
    }

    /// <summary>The permissions that hold for a token stating <paramref name="purposes"/> (this set itself when none names a purpose).</summary>
    private PermissionSet ForPurposes(IReadOnlyList<string> purposes)
        => _grants.Concat(_denies).All(p => p.Purposes is null && !p.PurposesUnreadable)
            ? this
            : new PermissionSet(_grants.Concat(_denies).Where(p => p.AppliesTo(purposes)));

    /// <summary>Reads a JSON array of Pauldron permissions; elements that are not about FHIR are ignored.</summary>
    public static PermissionSet Parse(JsonElement permissions)
    {
        if (permissions.ValueKind != JsonValueKind.Array)
        {
            return Empty;
        }

        return new PermissionSet(permissions.EnumerateArray().Select(GrantedPermission.TryParse).OfType<GrantedPermission>());
    }

    /// <summary>Reads JSON text holding an array of permissions; anything else is an empty set.</summary>
    public static PermissionSet Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Empty;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            return Parse(doc.RootElement);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    public Decision Evaluate(RequiredPermission required)
    {
        if (required.Patients is { Count: > 1 } patients)
        {
            // A resource of several patients needs a permission for each of them, and no deny for any.
            var result = Decision.Permit;
            foreach (var patient in patients)
            {
                var decision = Evaluate(required with { Patients = [patient] });
                if (decision == Decision.ExplicitlyDenied)
                {
                    return decision;
                }

                if (decision != Decision.Permit)
                {
                    result = decision;
                }
            }

            return result;
        }

        if (IsDenied(required))
        {
            return Decision.ExplicitlyDenied;
        }

        foreach (var grant in _grants)
        {
            if (grant.Grants(required))
            {
                return Decision.Permit;
            }
        }

        foreach (var scope in _smart)
        {
            if (scope.Grants(required, _patient))
            {
                return Decision.Permit;
            }
        }

        return Decision.NotGranted;
    }

    /// <summary>Whether a deny overlaps <paramref name="required"/> (for any of its patients).</summary>
    public bool IsDenied(RequiredPermission required)
    {
        foreach (var deny in _denies)
        {
            if (deny.Overlaps(required))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether any grant could permit <paramref name="action"/> on <paramref name="resourceType"/>
    /// for some patient and labels: when none could, a request is refused without reading anything.
    /// </summary>
    public bool CouldGrant(string resourceType, FhirAction action)
        => _grants.Any(g => g.CouldGrant(resourceType, action))
        || _smart.Any(s => s.CoversType(resourceType) && s.Allows(action) && (s.Context != SmartContext.Patient || _patient is not null));

    /// <summary>
    /// Whether the token may read every resource of <paramref name="resourceType"/> (null: of
    /// every type), whatever its patients and labels: a grant for patient <c>"*"</c> and labels
    /// <c>"*"</c> of that type (or a <c>user/</c> or <c>system/</c> SMART scope that searches it,
    /// without conditions), and no deny of reading it at all.
    /// </summary>
    public bool ReadsEverything(string? resourceType)
    {
        var action = FhirAction.Read.Name();
        var smart = _smart.Any(s => s.Context != SmartContext.Patient && s.Conditions.Count == 0 && s.Allows(FhirAction.Search)
            && (resourceType is null ? s.ResourceType is null : s.CoversType(resourceType)));
        var granted = smart || _grants.Any(g => g.Patient.Kind == ValueMatcher<PatientIdentifier>.MatcherKind.Wildcard
            && (resourceType is null ? g.ResourceType.Kind == ValueMatcher<string>.MatcherKind.Wildcard : g.ResourceType.Grants(resourceType, string.Equals))
            && g.Scopes.Any(s => s.Action.Grants(action, string.Equals) && s.Labels.Kind == ValueMatcher<SecurityLabel>.MatcherKind.Wildcard));
        return granted && !_denies.Any(d => (resourceType is null || d.ResourceType.Overlaps(resourceType, string.Equals))
            && d.Scopes.Any(s => s.Action.Overlaps(action, string.Equals)));
    }

    /// <summary>
    /// Plans a bulk export of <paramref name="types"/> (empty: every type, <c>"*"</c>), as Pauldron
    /// Hearth does: each type needs a <c>bulk-export</c> grant for patient <c>"*"</c> (labels aside)
    /// and no deny of the whole type. The grants' labels and the denied labels become
    /// <c>_typeFilter</c> queries for that type (one per allowed label, each excluding every denied
    /// label, since a server ORs the filters of a type), combined with the client's own filters for
    /// that type by AND. Pauldron appended its filters to the client's, which ORs them and lets a
    /// client filter widen the export. Denies of particular patients, and everything the filters
    /// cannot say, are enforced when the files are downloaded: each line is judged.
    /// </summary>
    /// <param name="clientFilters">The client's <c>_typeFilter</c> queries, decoded (<c>Type?query</c>).</param>
    public ExportPlan PlanExport(IReadOnlyList<string> types, IReadOnlyList<string> clientFilters)
    {
        var action = FhirAction.BulkExport.Name();
        if (clientFilters.FirstOrDefault(f => f.IndexOf('?', StringComparison.Ordinal) is var mark && (mark < 1 || !Fhir.FhirModel.R4.IsResourceType(f[..mark]))) is { } bad)
        {
            return new ExportPlan([], [], $"A _typeFilter must be a resource type and a query ('Observation?status=final'): '{bad}' is not.");
        }

        var requested = types.Count == 0 ? ["*"] : types;
        var unmet = new List<RequiredPermission>();
        var filters = new List<string>();
        foreach (var type in requested)
        {
            var scopes = _grants.Where(g => g.Patient.Kind == ValueMatcher<PatientIdentifier>.MatcherKind.Wildcard && g.ResourceType.Grants(type, string.Equals))
                .SelectMany(g => g.Scopes).Where(s => s.Action.Grants(action, string.Equals)).ToList();
            if (_smart.Any(s => s.Allows(FhirAction.BulkExport) && (type == "*" ? s.ResourceType is null : s.CoversType(type))))
            {
                scopes.Add(GrantedPermission.AnyLabel); // a system/ scope that reads and searches the type: every label
            }

            var applicableDenies = _denies.Where(d => d.Patient.Kind != ValueMatcher<PatientIdentifier>.MatcherKind.Values && d.ResourceType.Overlaps(type, string.Equals))
                .SelectMany(d => d.Scopes).Where(s => s.Action.Overlaps(action, string.Equals)).ToList();
            if (scopes.Count == 0 || applicableDenies.Any(s => s.Labels.Kind != ValueMatcher<SecurityLabel>.MatcherKind.Values))
            {
                unmet.Add(new RequiredPermission(null, type, FhirAction.BulkExport, []));
                continue;
            }

            if (type == "*")
            {
                continue; // a _typeFilter needs a type: the lines are judged at download
            }

            var own = clientFilters.Where(f => f.StartsWith(type + "?", StringComparison.Ordinal)).ToList();
            List<string> positives = scopes.Any(s => s.Labels.Kind == ValueMatcher<SecurityLabel>.MatcherKind.Wildcard)
                ? [""]
                : scopes.Where(s => s.Labels.Kind == ValueMatcher<SecurityLabel>.MatcherKind.Values).SelectMany(s => s.Labels.Values).Distinct()
                    .Select(l => "_security=" + ExportPlan.Token(l)).DefaultIfEmpty("_security:missing=true").ToList();
            var negatives = applicableDenies.SelectMany(s => s.Labels.Values).Distinct().Select(l => "_security:not=" + ExportPlan.Token(l)).ToList();
            if (positives is [""] && negatives.Count == 0)
            {
                filters.AddRange(own);
                continue;
            }

            foreach (var client in own.DefaultIfEmpty(type + "?"))
            {
                foreach (var positive in positives)
                {
                    var conditions = new[] { client[(type.Length + 1)..], positive }.Concat(negatives).Where(c => c.Length > 0);
                    filters.Add(type + "?" + string.Join("&", conditions));
                }
            }
        }

        // Kept as the client gave them: its filters when it asks for every type (Hearth's label
        // conditions need a type; the lines are judged at download), and those for types it did
        // not ask for (they change nothing).
        filters.AddRange(clientFilters.Where(f => requested.Contains("*") || !requested.Contains(f[..f.IndexOf('?', StringComparison.Ordinal)])));
        return new ExportPlan(unmet, filters);
    }
}
