using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Fhir;

/// <summary>Reads the facts authorization needs (type, labels, patients) from a FHIR JSON resource.</summary>
public sealed class ResourceInspector(HearthSettings settings)
{
    private readonly SecurityLabel _defaultLabel = new(HearthSettings.ConfidentialitySystem, settings.DefaultConfidentialityCode);

    /// <summary>
    /// Null when the node is not a FHIR resource (no known resourceType). <paramref name="local"/>:
    /// in a transaction, the entries' resources by their urn:uuid / urn:oid fullUrl; a reference to
    /// a local Patient is then reported as that urn (resolve it from the entry), any other local
    /// resource is not a patient. Without it, such references are unresolvable.
    /// </summary>
    public ResourceFacts? Inspect(JsonNode? node, IReadOnlyDictionary<string, JsonObject>? local = null)
    {
        if (node is not JsonObject resource
            || !TryGetString(resource, "resourceType", out var type)
            || !FhirModel.R4.IsResourceType(type))
        {
            return null;
        }

        var labels = Labels(resource);
        if (type == "Patient")
        {
            return new ResourceFacts(type, labels, PatientLinkKind.Self, [], Identifiers(resource));
        }

        var paths = FhirModel.R4.PatientCompartmentPaths(type);
        if (paths is null)
        {
            return new ResourceFacts(type, labels, PatientLinkKind.OutsideCompartment, [], []);
        }

        var patients = new List<string>();
        var unresolvable = false;
        foreach (var path in paths)
        {
            foreach (var reference in Follow(resource, path, 0))
            {
                if (reference is null)
                {
                    // Something other than an object where a reference belongs: cannot be judged.
                    unresolvable = true;
                    continue;
                }

                switch (ClassifyReference(resource, reference, local, out var patient))
                {
                    case ReferenceKind.Patient when !patients.Contains(patient!):
                        patients.Add(patient!);
                        break;
                    case ReferenceKind.Unresolvable:
                        unresolvable = true;
                        break;
                }
            }
        }

        var kind = unresolvable ? PatientLinkKind.Unresolvable
            : patients.Count > 0 ? PatientLinkKind.References
            : PatientLinkKind.OutsideCompartment;
        return new ResourceFacts(type, labels, kind, patients, []);
    }

    /// <summary>
    /// meta.security, or the default confidentiality label when the resource has none at all,
    /// filtered to DESIGNATED_SECURITY_LABEL_SYSTEMS.
    /// </summary>
    private List<SecurityLabel> Labels(JsonObject resource)
    {
        var all = new List<SecurityLabel>();
        if (resource["meta"] is JsonObject meta && meta["security"] is JsonArray security)
        {
            foreach (var coding in security.OfType<JsonObject>())
            {
                TryGetString(coding, "system", out var system);
                TryGetString(coding, "code", out var code);
                all.Add(new SecurityLabel(system, code));
            }
        }

        if (all.Count == 0)
        {
            all.Add(_defaultLabel);
        }

        return all.Where(l => l.System is not null && settings.DesignatedSecurityLabelSystems.Contains(l.System)).Distinct().ToList();
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

    /// <summary>
    /// The Reference objects found along <paramref name="path"/> (arrays are flattened); null for
    /// a value of the wrong shape (a string or number where an element belongs).
    /// </summary>
    private static IEnumerable<JsonObject?> Follow(JsonNode? node, string[] path, int index)
    {
        switch (node)
        {
            case null:
                yield break;
            case JsonArray array:
                foreach (var item in array)
                {
                    foreach (var found in Follow(item, path, index))
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

    private ReferenceKind ClassifyReference(JsonObject resource, JsonObject reference, IReadOnlyDictionary<string, JsonObject>? local, out string? patient)
    {
        patient = null;
        string? declaredType = TryGetString(reference, "type", out var t) ? t : null;
        if (TryGetString(reference, "reference", out var text))
        {
            if (text.StartsWith('#'))
            {
                // A contained resource: only a contained Patient would be a patient, and Hearth cannot identify it reliably.
                var containedType = ContainedType(resource, text[1..]);
                return containedType is null or "Patient" ? ReferenceKind.Unresolvable : ReferenceKind.NotPatient;
            }

            if (local is not null && local.TryGetValue(text, out var target) && TryGetString(target, "resourceType", out var targetType))
            {
                if (targetType != "Patient")
                {
                    // Declared a Patient but points at something else: inconsistent, fail closed.
                    return declaredType == "Patient" ? ReferenceKind.Unresolvable : ReferenceKind.NotPatient;
                }

                patient = text;
                return ReferenceKind.Patient;
            }

            var kind = PatientReference.Classify(text, settings.FhirServerBase, out patient);
            if (kind == ReferenceKind.NotPatient && declaredType == "Patient")
            {
                return ReferenceKind.Unresolvable;
            }

            return kind;
        }

        // A logical reference (identifier only): may name a patient Hearth cannot look up.
        if (reference["identifier"] is not null)
        {
            return declaredType is null or "Patient" ? ReferenceKind.Unresolvable : ReferenceKind.NotPatient;
        }

        return ReferenceKind.NotPatient;
    }

    private static string? ContainedType(JsonObject resource, string id)
    {
        if (resource["contained"] is JsonArray contained)
        {
            foreach (var item in contained.OfType<JsonObject>())
            {
                if (TryGetString(item, "id", out var cid) && cid == id && TryGetString(item, "resourceType", out var type))
                {
                    return type;
                }
            }
        }

        return null;
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
}
