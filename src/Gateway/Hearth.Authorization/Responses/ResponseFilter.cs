using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Responses;

/// <summary>
/// Decides what of a FHIR JSON response a token may see: the whole response, a Bundle with the
/// denied entries removed, or nothing (each resource judged by the <see cref="Adjudicator"/>), and
/// what of the Bundle (total, paging links) would count what is hidden. Pure: patient resolution
/// is done by the caller between <see cref="Parse"/> and <see cref="Apply"/>.
/// </summary>
public sealed class ResponseFilter(RuleSettings settings)
{
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = false };

    /// <summary>The paging links that do not count matches.</summary>
    private static readonly HashSet<string> PagingRelations = ["self", "first", "previous", "prev", "next"];
    private readonly ResourceInspector _inspector = new(settings);
    private readonly Adjudicator _adjudicator = new(settings);

    /// <summary>
    /// Reads a response body. Returns null when it is not a FHIR JSON resource (the caller must not
    /// forward it). <paramref name="judgeEntries"/>: a Bundle from a search, history or operation is
    /// judged entry by entry; a Bundle that was read as a resource is judged whole.
    /// </summary>
    public ParsedResponse? Parse(ReadOnlyMemory<byte> body, bool judgeEntries, IReadOnlyDictionary<string, LocalTarget>? local = null)
        => FhirJson.TryParse(body.Span) is JsonObject root ? Read(root, judgeEntries, local) : null;

    /// <summary>Like <see cref="Parse"/>, for a resource already parsed (an entry of a batch answer).</summary>
    public ParsedResponse? Read(JsonObject root, bool judgeEntries, IReadOnlyDictionary<string, LocalTarget>? local = null)
    {
        // A Bundle judged entry by entry is not judged as a whole: its entries are not its parts.
        var entryByEntry = judgeEntries && FhirElements.TryGetString(root, "resourceType", out var rootType) && rootType == "Bundle";
        if (_inspector.Inspect(root, local, embedded: !entryByEntry) is not { } rootFacts)
        {
            return null;
        }

        if (!entryByEntry)
        {
            return new ParsedResponse(root, rootFacts, null);
        }

        var items = new List<ParsedResponse.BundleItem>();
        if (root["entry"] is JsonArray entries)
        {
            foreach (var entry in entries)
            {
                items.Add(new ParsedResponse.BundleItem(entry, entry is JsonObject e ? _inspector.Inspect(e["resource"]) : null));
            }
        }
        else if (root["entry"] is not null)
        {
            return null;
        }

        return new ParsedResponse(root, rootFacts, items);
    }

    /// <summary>A resource already parsed (a stored version from a history, a patch's result), read as one resource.</summary>
    public ParsedResponse? Read(JsonObject resource, IReadOnlyDictionary<string, LocalTarget>? local = null) => Read(resource, judgeEntries: false, local);

    /// <summary>
    /// Adjudicates every resource. <paramref name="resolved"/> holds the patients (and Binary
    /// security contexts) the resources refer to; one that could not be resolved denies its resource.
    /// </summary>
    public FilterResult Apply(ParsedResponse response, ResolvedReferences resolved, PermissionSet permissions, FhirAction action)
    {
        if (response.Entries is null)
        {
            var decision = _adjudicator.Judge(response.RootFacts, resolved, permissions, action).Decision;
            return decision == Decision.Permit
                ? new FilterResult(FilterOutcome.Permitted, 1, 0, null, decision)
                : new FilterResult(FilterOutcome.Denied, 0, 1, null, decision);
        }

        var kept = new List<JsonNode?>();
        var removed = 0;
        var reason = Decision.Permit;
        foreach (var item in response.Entries)
        {
            var decision = item.Facts is null ? Decision.NotGranted : _adjudicator.Judge(item.Facts, resolved, permissions, action).Decision;
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

        var root = response.Root;
        var changed = ReplaceEntries(root, kept, removed);
        changed |= HideCounts(root, kept, removed);

        var outcome = removed == 0 ? FilterOutcome.Permitted : kept.Count > 0 ? FilterOutcome.Redacted : FilterOutcome.Emptied;
        return new FilterResult(outcome, kept.Count, removed, changed ? root.ToJsonString(WriteOptions) : null, reason);
    }

    /// <summary>Leaves only the kept entries; an empty page has no entry element, however it came to be empty. True when changed.</summary>
    private static bool ReplaceEntries(JsonObject root, List<JsonNode?> kept, int removed)
    {
        if (kept.Count == 0 && root.Remove("entry"))
        {
            return true;
        }

        if (removed > 0 && root["entry"] is JsonArray entryArray)
        {
            entryArray.Clear();
            foreach (var entry in kept)
            {
                entryArray.Add(entry?.DeepClone());
            }
        }

        return removed > 0;
    }

    /// <summary>
    /// Bundle.total, and paging links that count (last, or any but self, first, previous and
    /// next), tell how many matches there are, hidden ones included (on this page or others, or
    /// all of them with _summary=count). They stay only when provably what the token sees, and
    /// never on an empty page (a page emptied by Hearth must look like one the server sent empty).
    /// True when changed.
    /// </summary>
    private static bool HideCounts(JsonObject root, List<JsonNode?> kept, int removed)
    {
        var changed = false;
        var hasNext = root["link"] is JsonArray links && links.OfType<JsonObject>().Any(l => FhirElements.TryGetString(l, "relation", out var relation) && relation == "next");
        if (root["total"] is not null)
        {
            var matches = kept.Count(e => e is JsonObject o && (o["search"] is not JsonObject search || !FhirElements.TryGetString(search, "mode", out var mode) || mode == "match"));
            // An empty answer has no total either: one whose matches were all removed must look the same.
            var totalIsVisible = removed == 0 && !hasNext && matches > 0 && root["total"] is JsonValue t && t.TryGetValue<int>(out var total) && total == matches;
            if (!totalIsVisible)
            {
                root.Remove("total");
                changed = true;
            }
        }

        if ((removed > 0 || hasNext || kept.Count == 0) && root["link"] is JsonArray pageLinks)
        {
            foreach (var link in pageLinks.ToList())
            {
                if (link is not JsonObject l || !FhirElements.TryGetString(l, "relation", out var relation) || !PagingRelations.Contains(relation))
                {
                    pageLinks.Remove(link);
                    changed = true;
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// What the resources of a denied answer would have needed (for a UMA ticket): the root, or
    /// every judged entry. Resources no permission could grant are left out.
    /// </summary>
    public IReadOnlyList<RequiredPermission> Unmet(ParsedResponse response, ResolvedReferences resolved, FhirAction action)
        => response.Judged.Where(f => !settings.UnprotectedResourceTypes.Contains(f.ResourceType))
            .Select(f => _adjudicator.Required(f, resolved, action)).OfType<RequiredPermission>().Where(PermissionRegistration.CanName).ToList();
}
