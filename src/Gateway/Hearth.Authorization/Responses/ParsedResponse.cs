using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Responses;

/// <summary>
/// A FHIR JSON response body read for authorization: one resource, or a Bundle whose entries are
/// judged one by one. <see cref="PatientReferences"/> lists the Patients to resolve before
/// <see cref="ResponseFilter.Apply"/>.
/// </summary>
public sealed class ParsedResponse
{
    internal ParsedResponse(JsonObject root, ResourceFacts rootFacts, IReadOnlyList<BundleItem>? entries, IReadOnlySet<string> patientReferences)
    {
        Root = root;
        RootFacts = rootFacts;
        Entries = entries;
        PatientReferences = patientReferences;
    }

    public JsonObject Root { get; }

    public ResourceFacts RootFacts { get; }

    /// <summary>Null for a single resource; the Bundle entries when the response is judged entry by entry.</summary>
    public IReadOnlyList<BundleItem>? Entries { get; }

    /// <summary>"Patient/{id}" references whose designated identifiers are needed.</summary>
    public IReadOnlySet<string> PatientReferences { get; }

    /// <summary>One Bundle entry; <see cref="Facts"/> is null when it has no resource Hearth can classify.</summary>
    public sealed record BundleItem(JsonNode? Entry, ResourceFacts? Facts);
}
