using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// Reads the facts authorization needs (type, labels, patients) from a FHIR JSON resource and from
/// every resource embedded in it. What it cannot read with certainty makes the resource
/// unresolvable (denied), never "no patient".
/// </summary>
public sealed class ResourceInspector(RuleSettings settings)
{
    /// <summary>How deep resources may sit inside resources (a contained resource of an entry of a Bundle in a Bundle ...); deeper is unresolvable.</summary>
    public const int MaxEmbeddingDepth = 16;

    /// <summary>Stands for something embedded that is not a resource Hearth can read.</summary>
    internal static readonly ResourceFacts UnreadablePart = new("", [], PatientLinkKind.Unresolvable, [], []);

    private readonly CompartmentReferences _references = new(settings.FhirServerBase, settings.GatewayBase);
    private readonly SecurityLabel _defaultLabel = new(RuleSettings.ConfidentialitySystem, settings.DefaultConfidentialityCode);

    /// <summary>
    /// Null when the node is not a FHIR resource (no known resourceType). <paramref name="local"/>:
    /// in a transaction, what the entries' fullUrls stand for (see <see cref="LocalTarget"/>);
    /// without it, urn references are unresolvable. <paramref name="embedded"/>: false to read the
    /// resource alone (a search Bundle whose entries are judged one by one).
    /// </summary>
    public ResourceFacts? Inspect(JsonNode? node, IReadOnlyDictionary<string, LocalTarget>? local = null, bool embedded = true)
    {
        if (!FhirElements.IsResource(node, out var resource, out var type))
        {
            return null;
        }

        var own = Own(resource, type, resource["contained"] as JsonArray, inherited: null, local, contained: false);
        if (!embedded)
        {
            return own;
        }

        List<ResourceFacts>? parts = null;
        CollectEmbedded(resource, type, Confidentiality(own), local, ref parts, depth: 1);
        if (parts is null)
        {
            // Several confidentiality labels on one resource: grants need the highest, denies see each.
            return own.Labels.Count(l => l.IsConfidentiality) > 1 ? own with { Labels = SecurityLabel.HighWaterMark(own.Labels), Parts = [own] } : own;
        }

        parts.Insert(0, own);
        return ResourceParts.Combine(type, parts);
    }

    /// <summary>The facts of one resource by itself: its own labels, the patients its own compartment elements name.</summary>
    /// <param name="scope">The <c>contained</c> list its local references (<c>#id</c>) point into.</param>
    /// <param name="inherited">For a contained resource: the container's confidentiality, which it has unless it carries its own.</param>
    private ResourceFacts Own(JsonObject resource, string type, JsonArray? scope, IReadOnlyList<SecurityLabel>? inherited, IReadOnlyDictionary<string, LocalTarget>? local,
        bool contained)
    {
        var labels = Labels(resource, inherited);
        var unresolvable = labels is null;
        if (type == "Patient")
        {
            var self = !contained && FhirElements.TryGetString(resource, "id", out var id) && PatientReference.IsValidId(id) ? "Patient/" + id : null;
            return new ResourceFacts(type, labels ?? [], unresolvable ? PatientLinkKind.Unresolvable : PatientLinkKind.Patients, [], [FhirElements.Identifiers(resource)])
            {
                SelfReference = self,
                Resource = resource,
            };
        }

        var references = new List<string>();
        var inline = new List<IReadOnlyList<PatientIdentifier>>();
        List<string>? contexts = null;
        if (type == "Binary" && resource["securityContext"] is { } securityContext)
        {
            unresolvable |= !_references.SecurityContext(securityContext, references, ref contexts);
        }

        foreach (var path in FhirModel.R4.PatientCompartmentPaths(type) ?? [])
        {
            foreach (var element in FhirElements.Follow(resource, path, 0))
            {
                var link = _references.Classify(element, scope, local, out var patient, out var inlinePatient);
                unresolvable |= !ResourceParts.Add(link, patient, inlinePatient, references, inline);
            }
        }

        var kind = ResourceParts.Kind(unresolvable, references.Count + inline.Count);
        return new ResourceFacts(type, labels ?? [], kind, references, inline) { SecurityContexts = contexts ?? [], Resource = resource };
    }

    /// <summary>
    /// The resources embedded in <paramref name="resource"/>, recursively: its contained resources,
    /// a Bundle's entry resources and response outcomes (any Bundle type), and the resources of a
    /// Parameters' parameters and parts. Anything in those places that is not a readable resource
    /// is an unresolvable part.
    /// </summary>
    private void CollectEmbedded(JsonObject resource, string type, IReadOnlyList<SecurityLabel> confidentiality, IReadOnlyDictionary<string, LocalTarget>? local,
        ref List<ResourceFacts>? parts, int depth)
    {
        switch (resource["contained"])
        {
            case null:
                break;
            case JsonArray contained:
                foreach (var item in contained)
                {
                    Embedded(item, contained, confidentiality, local, ref parts, depth);
                }

                break;
            default:
                (parts ??= []).Add(UnreadablePart);
                break;
        }

        if (type == "Bundle")
        {
            switch (resource["entry"])
            {
                case null:
                    break;
                case JsonArray entries:
                    foreach (var entry in entries)
                    {
                        if (entry is not JsonObject e)
                        {
                            (parts ??= []).Add(UnreadablePart);
                            continue;
                        }

                        if (e["resource"] is { } entryResource)
                        {
                            Embedded(entryResource, null, null, local, ref parts, depth);
                        }

                        if (e["response"] is JsonObject response && response["outcome"] is { } outcome)
                        {
                            Embedded(outcome, null, null, local, ref parts, depth);
                        }
                    }

                    break;
                default:
                    (parts ??= []).Add(UnreadablePart);
                    break;
            }
        }
        else if (type == "Parameters")
        {
            Parameters(resource["parameter"], local, ref parts, depth);
        }
    }

    private void Parameters(JsonNode? parameters, IReadOnlyDictionary<string, LocalTarget>? local, ref List<ResourceFacts>? parts, int depth)
    {
        switch (parameters)
        {
            case null:
                return;
            case JsonArray list when depth <= MaxEmbeddingDepth:
                foreach (var parameter in list)
                {
                    if (parameter is not JsonObject p)
                    {
                        (parts ??= []).Add(UnreadablePart);
                        continue;
                    }

                    if (p["resource"] is { } parameterResource)
                    {
                        Embedded(parameterResource, null, null, local, ref parts, depth);
                    }

                    Parameters(p["part"], local, ref parts, depth + 1);
                }

                return;
            default:
                (parts ??= []).Add(UnreadablePart);
                return;
        }
    }

    private void Embedded(JsonNode? node, JsonArray? scope, IReadOnlyList<SecurityLabel>? inherited, IReadOnlyDictionary<string, LocalTarget>? local,
        ref List<ResourceFacts>? parts, int depth)
    {
        parts ??= [];
        if (depth > MaxEmbeddingDepth || !FhirElements.IsResource(node, out var resource, out var type))
        {
            parts.Add(UnreadablePart);
            return;
        }

        var facts = Own(resource, type, scope ?? resource["contained"] as JsonArray, inherited, local, contained: scope is not null);
        parts.Add(facts);
        CollectEmbedded(resource, type, Confidentiality(facts), local, ref parts, depth + 1);
    }

    /// <summary>
    /// meta.security filtered to DESIGNATED_SECURITY_LABEL_SYSTEMS; without a v3-Confidentiality
    /// label, the inherited one (a contained resource) or DEFAULT_CONFIDENTIALITY_CODE, whatever
    /// labels of other systems it has. Null when meta or meta.security is malformed.
    /// </summary>
    private List<SecurityLabel>? Labels(JsonObject resource, IReadOnlyList<SecurityLabel>? inherited)
    {
        var all = new List<SecurityLabel>();
        switch (resource["meta"])
        {
            case null:
                break;
            case JsonObject meta:
                switch (meta["security"])
                {
                    case null:
                        break;
                    case JsonArray security:
                        foreach (var coding in security)
                        {
                            if (coding is not JsonObject c || !FhirElements.OptionalString(c, "system", out var system) || !FhirElements.OptionalString(c, "code", out var code))
                            {
                                return null;
                            }

                            all.Add(new SecurityLabel(system, code));
                        }

                        break;
                    default:
                        return null;
                }

                break;
            default:
                return null;
        }

        return Designated(all, inherited);
    }

    /// <summary>The labels that count: the inherited or default confidentiality when none is given, only DESIGNATED_SECURITY_LABEL_SYSTEMS.</summary>
    internal List<SecurityLabel> Designated(List<SecurityLabel> all, IReadOnlyList<SecurityLabel>? inherited)
    {
        var confidentiality = false;
        foreach (var label in all)
        {
            confidentiality |= label.IsConfidentiality;
        }

        if (!confidentiality)
        {
            if (inherited is null)
            {
                all.Add(_defaultLabel);
            }
            else
            {
                all.AddRange(inherited);
            }
        }

        // Only the designated systems, each label once, in order (no LINQ: this runs for every resource of every answer).
        var designated = new List<SecurityLabel>(all.Count);
        foreach (var label in all)
        {
            if (label.System is not null && settings.DesignatedSecurityLabelSystems.Contains(label.System) && !designated.Contains(label))
            {
                designated.Add(label);
            }
        }

        return designated;
    }

    internal static IReadOnlyList<SecurityLabel> Confidentiality(ResourceFacts facts) => facts.Labels.Where(l => l.IsConfidentiality).ToList();

    /// <summary>
    /// <summary>
}
