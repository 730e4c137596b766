using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Responses;

/// <summary>
/// A FHIR JSON response body read for authorization: one resource, or a Bundle whose entries are
/// judged one by one. <see cref="PatientReferences"/> and <see cref="SecurityContexts"/> list
/// what to resolve before <see cref="ResponseFilter.Apply"/>.
/// </summary>
public sealed class ParsedResponse : IDisposable
{
    private JsonObject? _root;
    private IReadOnlyList<ResourceFacts>? _judged;

    internal ParsedResponse(JsonObject root, ResourceFacts rootFacts, IReadOnlyList<BundleItem>? entries)
    {
        _root = root;
        RootFacts = rootFacts;
        Entries = entries;
    }

    internal ParsedResponse(JsonDocument document, ResourceFacts rootFacts, IReadOnlyList<BundleItem>? entries)
    {
        Document = document;
        RootFacts = rootFacts;
        Entries = entries;
    }

    /// <summary>
    /// The document <see cref="Root"/> reads from (its nodes are made as they are looked at), when
    /// the response was parsed from bytes: a filtered Bundle is written from its raw bytes
    /// (<see cref="ResponseFilter.Write"/>). Disposing it ends <see cref="Root"/>'s use.
    /// </summary>
    public JsonDocument? Document { get; }

    public void Dispose() => Document?.Dispose();

    /// <summary>The response as nodes: over <see cref="Document"/> made only when first asked (a read served as it came never is).</summary>
    public JsonObject Root => _root ??= JsonObject.Create(Document!.RootElement)!;

    public ResourceFacts RootFacts { get; }

    /// <summary>Null for a single resource; the Bundle entries when the response is judged entry by entry.</summary>
    public IReadOnlyList<BundleItem>? Entries { get; }

    /// <summary>The facts of every resource that is judged: the root, or each entry's.</summary>
    /// <remarks>Listed once, when first asked: resolution, judging and the audit trail all read it.</remarks>
    public IReadOnlyList<ResourceFacts> Judged => _judged ??= Entries is null ? [RootFacts] : Entries.Select(e => e.Facts).OfType<ResourceFacts>().ToArray();

    /// <summary>"Patient/{id}" references whose patients are needed.</summary>
    public IReadOnlySet<string> PatientReferences => Judged.SelectMany(f => f.PatientReferences).ToHashSet(StringComparer.Ordinal);

    /// <summary>"Type/id" of the resources Binary security contexts name.</summary>
    public IReadOnlySet<string> SecurityContexts => Judged.SelectMany(f => f.SecurityContexts).ToHashSet(StringComparer.Ordinal);

    /// <summary>One Bundle entry; <see cref="Facts"/> is null when it has no resource Hearth can classify.</summary>
    /// <remarks><see cref="Entry"/> is null when the response was read from bytes (the entry stays in <see cref="Document"/>).</remarks>
    public sealed record BundleItem(JsonNode? Entry, ResourceFacts? Facts)
    {
        /// <summary>A search match (or an entry without a search mode), which <c>total</c> counts.</summary>
        public bool Match { get; init; }
    }
}
