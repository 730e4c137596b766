using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// <see cref="ResourceInspector"/> over a parsed <see cref="JsonElement"/>: the same facts, read
/// where they lie in the parsed document without making a tree of nodes (an answer's resources
/// are judged at the cost of the strings the facts hold). Every rule is the inspector's: each
/// method here mirrors the one of the same name there, and tests compare the two on every resource.
/// </summary>
public sealed class ElementInspector(RuleSettings settings)
{
    private readonly ResourceInspector _rules = new(settings);
    private readonly CompartmentReferences _references = new(settings.FhirServerBase, settings.GatewayBase);

    /// <inheritdoc cref="ResourceInspector.Inspect"/>
    public ResourceFacts? Inspect(JsonElement element, IReadOnlyDictionary<string, LocalTarget>? local = null, bool embedded = true)
    {
        if (!JsonElements.IsResource(element, out var type))
        {
            return null;
        }

        var own = Own(element, type, Contained(element), inherited: null, local, contained: false);
        if (!embedded)
        {
            return own;
        }

        List<ResourceFacts>? parts = null;
        CollectEmbedded(element, type, own, local, ref parts, depth: 1);
        if (parts is null)
        {
            return Confidentialities(own.Labels) > 1 ? own with { Labels = SecurityLabel.HighWaterMark(own.Labels), Parts = [own] } : own;
        }

        parts.Insert(0, own);
        return ResourceParts.Combine(type, parts);
    }

    private ResourceFacts Own(JsonElement resource, string type, JsonElement? scope, IReadOnlyList<SecurityLabel>? inherited, IReadOnlyDictionary<string, LocalTarget>? local,
        bool contained)
    {
        var labels = Labels(resource, inherited);
        var unresolvable = labels is null;
        if (type == "Patient")
        {
            var self = !contained && JsonElements.TryGetString(resource, "id", out var id) && PatientReference.IsValidId(id) ? "Patient/" + id : null;
            return new ResourceFacts(type, labels ?? [], unresolvable ? PatientLinkKind.Unresolvable : PatientLinkKind.Patients, [], [JsonElements.Identifiers(resource)])
            {
                SelfReference = self,
                Element = resource,
            };
        }

        var references = new List<string>();
        var inline = new List<IReadOnlyList<PatientIdentifier>>();
        List<string>? contexts = null;
        if (type == "Binary" && JsonElements.TryGet(resource, "securityContext", out var securityContext))
        {
            unresolvable |= !_references.SecurityContext(securityContext, references, ref contexts);
        }

        var found = new List<JsonElement?>();
        foreach (var path in FhirModel.R4.PatientCompartmentPaths(type) ?? [])
        {
            found.Clear();
            JsonElements.Follow(resource, path, 0, found);
            foreach (var element in found)
            {
                var link = _references.Classify(element, scope, local, out var patient, out var inlinePatient);
                unresolvable |= !ResourceParts.Add(link, patient, inlinePatient, references, inline);
            }
        }

        var kind = ResourceParts.Kind(unresolvable, references.Count + inline.Count);
        return new ResourceFacts(type, labels ?? [], kind, references, inline) { SecurityContexts = contexts ?? [], Element = resource };
    }

    /// <param name="container">The facts of <paramref name="resource"/> itself: its contained resources have its confidentiality unless they carry their own.</param>
    private void CollectEmbedded(JsonElement resource, string type, ResourceFacts container, IReadOnlyDictionary<string, LocalTarget>? local,
        ref List<ResourceFacts>? parts, int depth)
    {
        if (JsonElements.TryGet(resource, "contained", out var contained))
        {
            if (contained.ValueKind != JsonValueKind.Array)
            {
                (parts ??= []).Add(ResourceInspector.UnreadablePart);
            }
            else
            {
                var confidentiality = ResourceInspector.Confidentiality(container);
                foreach (var item in contained.EnumerateArray())
                {
                    Embedded(item, contained, confidentiality, local, ref parts, depth);
                }
            }
        }

        if (type == "Bundle")
        {
            Entries(resource, local, ref parts, depth);
        }
        else if (type == "Parameters")
        {
            Parameters(resource.TryGetProperty("parameter", out var parameter) ? parameter : null, local, ref parts, depth);
        }
    }

    private void Entries(JsonElement bundle, IReadOnlyDictionary<string, LocalTarget>? local, ref List<ResourceFacts>? parts, int depth)
    {
        if (!JsonElements.TryGet(bundle, "entry", out var entries))
        {
            return;
        }

        if (entries.ValueKind != JsonValueKind.Array)
        {
            (parts ??= []).Add(ResourceInspector.UnreadablePart);
            return;
        }

        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                // Not an object (a JSON null included): as the node reader, an unreadable part.
                (parts ??= []).Add(ResourceInspector.UnreadablePart);
                continue;
            }

            if (JsonElements.TryGet(entry, "resource", out var entryResource))
            {
                Embedded(entryResource, null, null, local, ref parts, depth);
            }

            if (JsonElements.TryGet(entry, "response", out var response) && response.ValueKind == JsonValueKind.Object && JsonElements.TryGet(response, "outcome", out var outcome))
            {
                Embedded(outcome, null, null, local, ref parts, depth);
            }
        }
    }

    private void Parameters(JsonElement? parameters, IReadOnlyDictionary<string, LocalTarget>? local, ref List<ResourceFacts>? parts, int depth)
    {
        if (parameters is not { } list || list.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (list.ValueKind != JsonValueKind.Array || depth > ResourceInspector.MaxEmbeddingDepth)
        {
            (parts ??= []).Add(ResourceInspector.UnreadablePart);
            return;
        }

        foreach (var parameter in list.EnumerateArray())
        {
            if (parameter.ValueKind != JsonValueKind.Object)
            {
                (parts ??= []).Add(ResourceInspector.UnreadablePart);
                continue;
            }

            if (JsonElements.TryGet(parameter, "resource", out var parameterResource))
            {
                Embedded(parameterResource, null, null, local, ref parts, depth);
            }

            Parameters(parameter.TryGetProperty("part", out var part) ? part : null, local, ref parts, depth + 1);
        }
    }

    private void Embedded(JsonElement node, JsonElement? scope, IReadOnlyList<SecurityLabel>? inherited, IReadOnlyDictionary<string, LocalTarget>? local,
        ref List<ResourceFacts>? parts, int depth)
    {
        parts ??= [];
        if (depth > ResourceInspector.MaxEmbeddingDepth || !JsonElements.IsResource(node, out var type))
        {
            parts.Add(ResourceInspector.UnreadablePart);
            return;
        }

        var facts = Own(node, type, scope ?? Contained(node), inherited, local, contained: scope is not null);
        parts.Add(facts);
        CollectEmbedded(node, type, facts, local, ref parts, depth + 1);
    }

    private static int Confidentialities(IReadOnlyList<SecurityLabel> labels)
    {
        var count = 0;
        for (var i = 0; i < labels.Count; i++)
        {
            count += labels[i].IsConfidentiality ? 1 : 0;
        }

        return count;
    }

    /// <summary>The resource's <c>contained</c> list when it is one (what its <c>#id</c> references point into).</summary>
    private static JsonElement? Contained(JsonElement resource)
        => resource.TryGetProperty("contained", out var contained) && contained.ValueKind == JsonValueKind.Array ? contained : null;

    private List<SecurityLabel>? Labels(JsonElement resource, IReadOnlyList<SecurityLabel>? inherited)
    {
        var all = new List<SecurityLabel>();
        if (JsonElements.TryGet(resource, "meta", out var meta))
        {
            if (meta.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (JsonElements.TryGet(meta, "security", out var security))
            {
                if (security.ValueKind != JsonValueKind.Array)
                {
                    return null;
                }

                foreach (var coding in security.EnumerateArray())
                {
                    if (coding.ValueKind != JsonValueKind.Object || !JsonElements.OptionalString(coding, "system", out var system) || !JsonElements.OptionalString(coding, "code", out var code))
                    {
                        return null;
                    }

                    all.Add(new SecurityLabel(system, code));
                }
            }
        }

        return _rules.Designated(all, inherited);
    }
}
