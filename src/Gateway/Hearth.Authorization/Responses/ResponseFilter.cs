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
    /// <summary>The paging links that do not count matches.</summary>
    private static readonly HashSet<string> PagingRelations = ["self", "first", "previous", "prev", "next"];
    private readonly ResourceInspector _inspector = new(settings);
    private readonly ElementInspector _elements = new(settings);
    private readonly Adjudicator _adjudicator = new(settings);

    /// <summary>
    /// Reads a response body. Returns null when it is not a FHIR JSON resource (the caller must not
    /// forward it). <paramref name="judgeEntries"/>: a Bundle from a search, history or operation is
    /// judged entry by entry; a Bundle that was read as a resource is judged whole.
    /// </summary>
    /// <remarks>The bytes are read where they are (not copied): they must not change while the result is in use; disposing it returns the parser's buffers.</remarks>
    public ParsedResponse? Parse(ReadOnlyMemory<byte> body, bool judgeEntries, IReadOnlyDictionary<string, LocalTarget>? local = null)
    {
        var document = FhirJson.TryParseDocument(body);
        if (document?.RootElement.ValueKind != JsonValueKind.Object)
        {
            document?.Dispose();
            return null;
        }

        var parsed = Read(document, judgeEntries, local);
        if (parsed is null)
        {
            document.Dispose();
        }

        return parsed;
    }

    /// <summary>Reads the parsed document where it lies (<see cref="ElementInspector"/>): no tree of nodes is made for judging.</summary>
    private ParsedResponse? Read(JsonDocument document, bool judgeEntries, IReadOnlyDictionary<string, LocalTarget>? local)
    {
        var root = document.RootElement;
        var entryByEntry = judgeEntries && JsonElements.TryGetString(root, "resourceType", out var rootType) && rootType == "Bundle";
        if (_elements.Inspect(root, local, embedded: !entryByEntry) is not { } rootFacts)
        {
            return null;
        }

        if (!entryByEntry)
        {
            return new ParsedResponse(document, rootFacts, null);
        }

        var items = new List<ParsedResponse.BundleItem>();
        if (JsonElements.TryGet(root, "entry", out var entries))
        {
            if (entries.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var entry in entries.EnumerateArray())
            {
                var facts = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("resource", out var resource) ? _elements.Inspect(resource) : null;
                items.Add(new ParsedResponse.BundleItem(null, facts) { Match = IsMatch(entry) });
            }
        }

        return new ParsedResponse(document, rootFacts, items);
    }

    private static bool IsMatch(JsonElement entry)
        => entry.ValueKind == JsonValueKind.Object
           && (!JsonElements.TryGet(entry, "search", out var search) || search.ValueKind != JsonValueKind.Object || !JsonElements.TryGetString(search, "mode", out var mode) || mode == "match");

    private static bool IsMatch(JsonNode? entry)
        => entry is JsonObject o && (o["search"] is not JsonObject search || !FhirElements.TryGetString(search, "mode", out var mode) || mode == "match");

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
                items.Add(new ParsedResponse.BundleItem(entry, entry is JsonObject e ? _inspector.Inspect(e["resource"]) : null) { Match = IsMatch(entry) });
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
                ? new FilterResult(FilterOutcome.Permitted, 1, 0, decision)
                : new FilterResult(FilterOutcome.Denied, 0, 1, decision);
        }

        var keep = new bool[response.Entries.Count];
        var kept = 0;
        var keptMatches = 0;
        var removed = 0;
        var reason = Decision.Permit;
        for (var i = 0; i < keep.Length; i++)
        {
            var item = response.Entries[i];
            var decision = item.Facts is null ? Decision.NotGranted : _adjudicator.Judge(item.Facts, resolved, permissions, action).Decision;
            if (decision == Decision.Permit)
            {
                keep[i] = true;
                kept++;
                keptMatches += item.Match ? 1 : 0;
            }
            else
            {
                removed++;
                reason = reason is Decision.ExplicitlyDenied or Decision.ConsentDenied ? reason : decision;
            }
        }

        // An empty page has no entry element, however it came to be empty.
        var root = response.Root;
        var dropEntry = kept == 0 && root.ContainsKey("entry");
        var (dropTotal, keepLink) = HideCounts(root, kept, keptMatches, removed);
        var outcome = removed == 0 ? FilterOutcome.Permitted : kept > 0 ? FilterOutcome.Redacted : FilterOutcome.Emptied;
        var changed = removed > 0 || dropEntry || dropTotal || keepLink is not null;
        return new FilterResult(outcome, kept, removed, reason)
        {
            Edit = changed ? new BundleEdit(keep, dropEntry, dropTotal, keepLink) : null,
            Response = response,
        };
    }

    /// <summary>
    /// Bundle.total, and paging links that count (last, or any but self, first, previous and
    /// next), tell how many matches there are, hidden ones included (on this page or others, or
    /// all of them with _summary=count). They stay only when provably what the token sees, and
    /// never on an empty page (a page emptied by Hearth must look like one the server sent empty).
    /// Returns whether total goes, and which links stay (null: all).
    /// </summary>
    private static (bool DropTotal, bool[]? KeepLink) HideCounts(JsonObject root, int kept, int matches, int removed)
    {
        var dropTotal = false;
        bool[]? keepLink = null;
        var hasNext = root["link"] is JsonArray links && links.OfType<JsonObject>().Any(l => FhirElements.TryGetString(l, "relation", out var relation) && relation == "next");
        if (root["total"] is not null)
        {
            // An empty answer has no total either: one whose matches were all removed must look the same.
            var totalIsVisible = removed == 0 && !hasNext && matches > 0 && root["total"] is JsonValue t && t.TryGetValue<int>(out var total) && total == matches;
            dropTotal = !totalIsVisible;
        }

        if ((removed > 0 || hasNext || kept == 0) && root["link"] is JsonArray pageLinks)
        {
            var keep = pageLinks.Select(link => link is JsonObject l && FhirElements.TryGetString(l, "relation", out var relation) && PagingRelations.Contains(relation)).ToArray();
            keepLink = keep.All(k => k) ? null : keep;
        }

        return (dropTotal, keepLink);
    }

    /// <summary>
    /// What the resources of a denied answer would have needed (for a UMA ticket): the root, or
    /// every judged entry. Resources no permission could grant are left out.
    /// </summary>
    public IReadOnlyList<RequiredPermission> Unmet(ParsedResponse response, ResolvedReferences resolved, FhirAction action)
        => response.Judged.Where(f => !settings.UnprotectedResourceTypes.Contains(f.ResourceType))
            .Select(f => _adjudicator.Required(f, resolved, action)).OfType<RequiredPermission>().Where(PermissionRegistration.CanName).ToList();
}
