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

    /// <summary>The members of a FHIR Reference (with the JSON forms of primitive extensions).</summary>
    private static readonly HashSet<string> ReferenceMembers = ["id", "extension", "reference", "_reference", "type", "_type", "identifier", "display", "_display"];

    /// <summary>Stands for something embedded that is not a resource Hearth can read.</summary>
    private static readonly ResourceFacts UnreadablePart = new("", [], PatientLinkKind.Unresolvable, [], []);

    private readonly SecurityLabel _defaultLabel = new(RuleSettings.ConfidentialitySystem, settings.DefaultConfidentialityCode);

    /// <summary>
    /// Null when the node is not a FHIR resource (no known resourceType). <paramref name="local"/>:
    /// in a transaction, what the entries' fullUrls stand for (see <see cref="LocalTarget"/>);
    /// without it, urn references are unresolvable. <paramref name="embedded"/>: false to read the
    /// resource alone (a search Bundle whose entries are judged one by one).
    /// </summary>
    public ResourceFacts? Inspect(JsonNode? node, IReadOnlyDictionary<string, LocalTarget>? local = null, bool embedded = true)
    {
        if (!IsResource(node, out var resource, out var type))
        {
            return null;
        }

        var own = Own(resource, type, resource["contained"] as JsonArray, inherited: null, local);
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
        return Combine(type, parts);
    }

    /// <summary>A Patient's identifiers that have a value, in the order it lists them.</summary>
    public static List<PatientIdentifier> Identifiers(JsonObject patient)
    {
        var result = new List<PatientIdentifier>();
        if (patient["identifier"] is JsonArray identifiers)
        {
            foreach (var identifier in identifiers.OfType<JsonObject>())
            {
                if (TryGetString(identifier, "value", out var value) && value.Length > 0)
                {
                    TryGetString(identifier, "system", out var system);
                    result.Add(new PatientIdentifier(system, value));
                }
            }
        }

        return result;
    }

    public static bool TryGetString(JsonObject obj, string name, out string value)
    {
        if (obj[name] is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>True when <paramref name="node"/> is a JSON object with a FHIR R4 resourceType.</summary>
    public static bool IsResource(JsonNode? node, out JsonObject resource, out string type)
    {
        resource = null!;
        type = "";
        if (node is not JsonObject obj || !TryGetString(obj, "resourceType", out type) || !FhirModel.R4.IsResourceType(type))
        {
            return false;
        }

        resource = obj;
        return true;
    }

    /// <summary>The facts of one resource by itself: its own labels, the patients its own compartment elements name.</summary>
    /// <param name="scope">The <c>contained</c> list its local references (<c>#id</c>) point into.</param>
    /// <param name="inherited">For a contained resource: the container's confidentiality, which it has unless it carries its own.</param>
    private ResourceFacts Own(JsonObject resource, string type, JsonArray? scope, IReadOnlyList<SecurityLabel>? inherited, IReadOnlyDictionary<string, LocalTarget>? local)
    {
        var labels = Labels(resource, inherited);
        var unresolvable = labels is null;
        if (type == "Patient")
        {
            return new ResourceFacts(type, labels ?? [], unresolvable ? PatientLinkKind.Unresolvable : PatientLinkKind.Patients, [], [Identifiers(resource)]);
        }

        var references = new List<string>();
        var inline = new List<IReadOnlyList<PatientIdentifier>>();
        List<string>? contexts = null;
        if (type == "Binary" && resource["securityContext"] is { } securityContext)
        {
            unresolvable |= !SecurityContext(securityContext, references, ref contexts);
        }

        foreach (var path in FhirModel.R4.PatientCompartmentPaths(type) ?? [])
        {
            foreach (var element in Follow(resource, path, 0))
            {
                switch (ClassifyReference(element, scope, local, out var patient, out var inlinePatient))
                {
                    case Link.Reference when !references.Contains(patient!):
                        references.Add(patient!);
                        break;
                    case Link.Inline:
                        inline.Add(inlinePatient!);
                        break;
                    case Link.Unresolvable:
                        unresolvable = true;
                        break;
                }
            }
        }

        var kind = unresolvable ? PatientLinkKind.Unresolvable
            : references.Count > 0 || inline.Count > 0 ? PatientLinkKind.Patients
            : PatientLinkKind.OutsideCompartment;
        return new ResourceFacts(type, labels ?? [], kind, references, inline) { SecurityContexts = contexts ?? [] };
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
        if (depth > MaxEmbeddingDepth || !IsResource(node, out var resource, out var type))
        {
            parts.Add(UnreadablePart);
            return;
        }

        var facts = Own(resource, type, scope ?? resource["contained"] as JsonArray, inherited, local);
        parts.Add(facts);
        CollectEmbedded(resource, type, Confidentiality(facts), local, ref parts, depth + 1);
    }

    /// <summary>A resource and its embedded resources judged as one: every patient, the highest confidentiality, unresolvable if any part is.</summary>
    private static ResourceFacts Combine(string type, List<ResourceFacts> parts)
    {
        var references = new List<string>();
        var inline = new List<IReadOnlyList<PatientIdentifier>>();
        var contexts = new List<string>();
        var unresolvable = false;
        foreach (var part in parts)
        {
            unresolvable |= part.PatientLink == PatientLinkKind.Unresolvable;
            references.AddRange(part.PatientReferences.Where(r => !references.Contains(r)));
            inline.AddRange(part.InlinePatients);
            contexts.AddRange(part.SecurityContexts.Where(c => !contexts.Contains(c)));
        }

        var kind = unresolvable ? PatientLinkKind.Unresolvable
            : references.Count > 0 || inline.Count > 0 ? PatientLinkKind.Patients
            : PatientLinkKind.OutsideCompartment;
        return new ResourceFacts(type, SecurityLabel.HighWaterMark(parts.SelectMany(p => p.Labels)), kind, references, inline)
        {
            SecurityContexts = contexts,
            Parts = parts,
        };
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
                            if (coding is not JsonObject c || !OptionalString(c, "system", out var system) || !OptionalString(c, "code", out var code))
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

        if (!all.Any(l => l.IsConfidentiality))
        {
            all.AddRange(inherited ?? [_defaultLabel]);
        }

        return all.Where(l => l.System is not null && settings.DesignatedSecurityLabelSystems.Contains(l.System)).Distinct().ToList();
    }

    private static IReadOnlyList<SecurityLabel> Confidentiality(ResourceFacts facts) => facts.Labels.Where(l => l.IsConfidentiality).ToList();

    /// <summary>
    /// The values found along <paramref name="path"/> (arrays are flattened once); null for a value
    /// of the wrong shape (a string or number where an element belongs, an array in an array).
    /// </summary>
    private static IEnumerable<JsonObject?> Follow(JsonNode? node, string[] path, int index, bool inArray = false)
    {
        switch (node)
        {
            case null:
                yield break;
            case JsonArray when inArray:
                yield return null;
                yield break;
            case JsonArray array:
                foreach (var item in array)
                {
                    foreach (var found in Follow(item, path, index, inArray: true))
                    {
                        yield return found;
                    }
                }

                yield break;
            case JsonObject obj when index == path.Length:
                yield return obj;
                yield break;
            case JsonObject obj:
                foreach (var found in Follow(obj[path[index]], path, index + 1))
                {
                    yield return found;
                }

                yield break;
            default:
                yield return null;
                yield break;
        }
    }

    private enum Link
    {
        /// <summary>Not a link to a patient (another type, a display-only reference, a contained resource judged as a part).</summary>
        None,

        /// <summary>A Patient on the FHIR server: "Patient/{id}".</summary>
        Reference,

        /// <summary>A Patient created in the same transaction: its identifiers.</summary>
        Inline,

        /// <summary>Might name a patient Hearth cannot identify, or is not a plain Reference: fail closed.</summary>
        Unresolvable,
    }

    /// <summary>
    /// What one element on a Patient-compartment path points at. Only a plain FHIR Reference is
    /// read: a string <c>reference</c>, <c>type</c> and <c>display</c>, an object
    /// <c>identifier</c>, and no members a Reference does not have (a server may read
    /// <c>{"resourceType": "Patient", "id": "2"}</c> as a reference).
    /// </summary>
    private Link ClassifyReference(JsonObject? element, JsonArray? scope, IReadOnlyDictionary<string, LocalTarget>? local,
        out string? patient, out IReadOnlyList<PatientIdentifier>? inlinePatient)
    {
        patient = null;
        inlinePatient = null;
        if (element is null || element.Any(member => !ReferenceMembers.Contains(member.Key))
            || !OptionalString(element, "reference", out var text) || !OptionalString(element, "type", out var declaredType)
            || !OptionalString(element, "display", out _) || element["identifier"] is not (null or JsonObject))
        {
            return Link.Unresolvable;
        }

        if (text is null)
        {
            // A logical reference (identifier only) may name a patient Hearth cannot look up; display only names nothing.
            return element["identifier"] is not null && declaredType is null or "Patient" ? Link.Unresolvable : Link.None;
        }

        if (text.StartsWith('#'))
        {
            // A contained resource is a part of this one (a contained Patient's identifiers count
            // through it); "#" alone is the container itself.
            var containedType = text.Length == 1 ? "" : ContainedType(scope, text[1..]);
            return containedType is null || (declaredType is not null && containedType.Length > 0 && declaredType != containedType) ? Link.Unresolvable : Link.None;
        }

        if (local is not null && local.TryGetValue(text, out var target))
        {
            if (target.CreatedType is { } createdType)
            {
                if (declaredType is not null && declaredType != createdType)
                {
                    return Link.Unresolvable;
                }

                if (target.CreatedPatient is not { } identifiers)
                {
                    return Link.None;
                }

                inlinePatient = identifiers;
                return Link.Inline;
            }

            if (target.Existing is not { } existing)
            {
                return Link.Unresolvable;
            }

            text = existing; // as the FHIR server resolves it: the Type/id that entry writes
        }

        switch (PatientReference.Classify(text, settings.FhirServerBase, out patient))
        {
            case ReferenceKind.Patient:
                return Link.Reference;
            case ReferenceKind.NotPatient when declaredType != "Patient":
                return Link.None;
            default:
                return Link.Unresolvable;
        }
    }

    /// <summary>
    /// A Binary's securityContext: a Patient counts as its patient, any other resource on the FHIR
    /// server stands in for its security (read and judged later). False when it cannot be read.
    /// </summary>
    private bool SecurityContext(JsonNode context, List<string> references, ref List<string>? contexts)
    {
        if (context is not JsonObject reference || reference.Any(member => !ReferenceMembers.Contains(member.Key))
            || !TryGetString(reference, "reference", out var text)
            || !PatientReference.TryRelative(text, settings.FhirServerBase, out var type, out var id) || !FhirModel.R4.IsResourceType(type))
        {
            return false;
        }

        if (type == "Patient")
        {
            references.Add("Patient/" + id);
        }
        else
        {
            (contexts ??= []).Add(type + "/" + id);
        }

        return true;
    }

    private static string? ContainedType(JsonArray? contained, string id)
    {
        foreach (var item in contained ?? [])
        {
            if (item is JsonObject resource && TryGetString(resource, "id", out var cid) && cid == id && TryGetString(resource, "resourceType", out var type))
            {
                return type;
            }
        }

        return null;
    }

    /// <summary>True when the member is absent or a string (its value, else null); false for any other JSON value.</summary>
    private static bool OptionalString(JsonObject obj, string name, out string? value)
    {
        value = null;
        if (!obj.TryGetPropertyValue(name, out var node))
        {
            return true;
        }

        if (node is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        return false;
    }
}
