using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Responses;

/// <summary>
/// Decides what of a FHIR JSON response a token may see: the whole response, a Bundle with the
/// denied entries removed, or nothing. Pure: patient resolution is done by the caller between
/// <see cref="Parse"/> and <see cref="Apply"/>.
/// </summary>
public sealed class ResponseFilter(HearthSettings settings)
{
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = false };
    private readonly ResourceInspector _inspector = new(settings);

    /// <summary>
    /// Reads a response body. Returns null when it is not a FHIR JSON resource (the caller must not
    /// forward it). <paramref name="judgeEntries"/>: a Bundle from a search, history or operation is
    /// judged entry by entry; a Bundle that was read as a resource is judged whole.
    /// </summary>
    public ParsedResponse? Parse(ReadOnlyMemory<byte> body, bool judgeEntries, IReadOnlyDictionary<string, JsonObject>? local = null)
    {
        if (FhirJson.TryParse(body.Span) is not JsonObject root || _inspector.Inspect(root, local) is not { } rootFacts)
        {
            return null;
        }

        var references = new HashSet<string>(StringComparer.Ordinal);
        if (!judgeEntries || rootFacts.ResourceType != "Bundle")
        {
            references.UnionWith(rootFacts.PatientReferences);
            return new ParsedResponse(root, rootFacts, null, references);
        }

        var items = new List<ParsedResponse.BundleItem>();
        if (root["entry"] is JsonArray entries)
        {
            foreach (var entry in entries)
            {
                var facts = entry is JsonObject e ? _inspector.Inspect(e["resource"]) : null;
                if (facts is not null)
                {
                    references.UnionWith(facts.PatientReferences);
                }

                items.Add(new ParsedResponse.BundleItem(entry, facts));
            }
        }
        else if (root["entry"] is not null)
        {
            return null;
        }

        return new ParsedResponse(root, rootFacts, items, references);
    }

    /// <summary>
    /// Adjudicates every resource. <paramref name="resolve"/> gives the designated identifier of a
    /// "Patient/{id}" reference, or null when it cannot be resolved (the resource is then denied).
    /// </summary>
    public FilterResult Apply(ParsedResponse response, Func<string, PatientIdentifier?> resolve, PermissionSet permissions, string action)
    {
        if (response.Entries is null)
        {
            var decision = Judge(response.RootFacts, resolve, permissions, action);
            return decision == Decision.Permit
                ? new FilterResult(FilterOutcome.Permitted, 1, 0, null, decision)
                : new FilterResult(FilterOutcome.Denied, 0, 1, null, decision);
        }

        var kept = new List<JsonNode?>();
        var removed = 0;
        var reason = Decision.Permit;
        foreach (var item in response.Entries)
        {
            var decision = item.Facts is null ? Decision.NotGranted : Judge(item.Facts, resolve, permissions, action);
            if (decision == Decision.Permit)
            {
                kept.Add(item.Entry);
            }
            else
            {
                removed++;
                reason = reason == Decision.ExplicitlyDenied ? reason : decision;
            }
        }

        if (removed > 0 && kept.Count == 0)
        {
            return new FilterResult(FilterOutcome.Denied, 0, removed, null, reason);
        }

        var root = response.Root;
        var changed = removed > 0;
        if (removed > 0 && root["entry"] is JsonArray entryArray)
        {
            entryArray.Clear();
            foreach (var entry in kept)
            {
                entryArray.Add(entry?.DeepClone());
            }
        }

        // Bundle.total counts matches the token may not see (on this page or others, or all of
        // them with _summary=count). Keep it only when it is provably the visible count.
        if (root["total"] is not null)
        {
            var matches = kept.Count(e => e is JsonObject o && (o["search"] is not JsonObject search || !ResourceInspector.TryGetString(search, "mode", out var mode) || mode == "match"));
            var hasNext = root["link"] is JsonArray links && links.OfType<JsonObject>().Any(l => ResourceInspector.TryGetString(l, "relation", out var relation) && relation == "next");
            var totalIsVisible = removed == 0 && !hasNext && root["total"] is JsonValue t && t.TryGetValue<int>(out var total) && total == matches;
            if (!totalIsVisible)
            {
                root.Remove("total");
                changed = true;
            }
        }

        var outcome = removed > 0 ? FilterOutcome.Redacted : FilterOutcome.Permitted;
        return new FilterResult(outcome, kept.Count, removed, changed ? root.ToJsonString(WriteOptions) : null, reason);
    }

    /// <summary>Adjudicates one resource for <paramref name="action"/> (unprotected types always pass).</summary>
    public Decision Judge(ResourceFacts facts, Func<string, PatientIdentifier?> resolve, PermissionSet permissions, string action)
    {
        if (settings.UnprotectedResourceTypes.Contains(facts.ResourceType))
        {
            return Decision.Permit;
        }

        return Required(facts, resolve, action) is { } required ? permissions.Evaluate(required) : Decision.NotGranted;
    }

    /// <summary>
    /// What one resource needs for <paramref name="action"/>; null when no permission can grant it
    /// (a patient that cannot be resolved, a Patient without identifiers).
    /// </summary>
    public RequiredPermission? Required(ResourceFacts facts, Func<string, PatientIdentifier?> resolve, string action)
    {
        IReadOnlyList<PatientIdentifier>? patients;
        switch (facts.PatientLink)
        {
            case PatientLinkKind.Self:
                if (PatientIdentifier.Choose(facts.SelfIdentifiers, settings.DesignatedPatientIdSystems) is not { } self)
                {
                    return null;
                }

                patients = [self];
                break;
            case PatientLinkKind.References:
                var list = new List<PatientIdentifier>(facts.PatientReferences.Count);
                foreach (var reference in facts.PatientReferences)
                {
                    if (resolve(reference) is not { } identifier)
                    {
                        return null;
                    }

                    list.Add(identifier);
                }

                patients = list;
                break;
            case PatientLinkKind.OutsideCompartment:
                patients = null;
                break;
            default:
                return null;
        }

        return new RequiredPermission(patients, facts.ResourceType, action, facts.Labels);
    }

    /// <summary>
    /// What the resources of a denied answer would have needed (for a UMA ticket): the root, or
    /// every judged entry. Resources no permission could grant are left out.
    /// </summary>
    public IReadOnlyList<RequiredPermission> Unmet(ParsedResponse response, Func<string, PatientIdentifier?> resolve, string action)
    {
        var facts = response.Entries is null ? [response.RootFacts] : response.Entries.Select(e => e.Facts).OfType<ResourceFacts>();
        return facts.Where(f => !settings.UnprotectedResourceTypes.Contains(f.ResourceType))
            .Select(f => Required(f, resolve, action)).OfType<RequiredPermission>().ToList();
    }
}
