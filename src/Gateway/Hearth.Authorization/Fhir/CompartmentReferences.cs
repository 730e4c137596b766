using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// What the elements on a resource's Patient-compartment paths point at, and what a Binary's
/// securityContext stands for. Only plain FHIR References on this FHIR server are followed;
/// anything else that might name a patient is unresolvable (fail closed).
/// </summary>
internal sealed class CompartmentReferences(string fhirServerBase, string? gatewayBase)
{
    /// <summary>The members of a FHIR Reference (with the JSON forms of primitive extensions).</summary>
    private static readonly HashSet<string> ReferenceMembers = ["id", "extension", "reference", "_reference", "type", "_type", "identifier", "display", "_display"];

    public enum Link
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
    public Link Classify(JsonObject? element, JsonArray? scope, IReadOnlyDictionary<string, LocalTarget>? local,
        out string? patient, out IReadOnlyList<PatientIdentifier>? inlinePatient)
    {
        patient = null;
        inlinePatient = null;
        if (element is null || element.Any(member => !ReferenceMembers.Contains(member.Key))
            || !FhirElements.OptionalString(element, "reference", out var text) || !FhirElements.OptionalString(element, "type", out var declaredType)
            || !FhirElements.OptionalString(element, "display", out _) || element["identifier"] is not (null or JsonObject))
        {
            return Link.Unresolvable;
        }

        var contained = text is ['#', _, ..] ? FhirElements.ContainedType(scope, text[1..]) : null;
        return ClassifyText(text, declaredType, element["identifier"] is not null, contained, local, out patient, out inlinePatient);
    }

    /// <summary>The same, over a <see cref="JsonElement"/>.</summary>
    public Link Classify(JsonElement? element, JsonElement? scope, IReadOnlyDictionary<string, LocalTarget>? local,
        out string? patient, out IReadOnlyList<PatientIdentifier>? inlinePatient)
    {
        patient = null;
        inlinePatient = null;
        if (element is not { } e || HasOtherMembers(e)
            || !JsonElements.OptionalString(e, "reference", out var text) || !JsonElements.OptionalString(e, "type", out var declaredType)
            || !JsonElements.OptionalString(e, "display", out _) || (JsonElements.TryGet(e, "identifier", out var identifier) && identifier.ValueKind != JsonValueKind.Object))
        {
            return Link.Unresolvable;
        }

        var contained = text is ['#', _, ..] ? JsonElements.ContainedType(scope, text[1..]) : null;
        return ClassifyText(text, declaredType, JsonElements.TryGet(e, "identifier", out _), contained, local, out patient, out inlinePatient);
    }

    private static bool HasOtherMembers(JsonElement element)
    {
        foreach (var member in element.EnumerateObject())
        {
            if (!ReferenceMembers.Contains(member.Name))
            {
                return true;
            }
        }

        return false;
    }

    /// <param name="containedType">For a <c>#id</c> reference: the type of the contained resource with that id (null: none).</param>
    private Link ClassifyText(string? text, string? declaredType, bool hasIdentifier, string? containedType, IReadOnlyDictionary<string, LocalTarget>? local,
        out string? patient, out IReadOnlyList<PatientIdentifier>? inlinePatient)
    {
        patient = null;
        inlinePatient = null;
        if (text is null)
        {
            // A logical reference (identifier only) may name a patient Hearth cannot look up; display only names nothing.
            return hasIdentifier && declaredType is null or "Patient" ? Link.Unresolvable : Link.None;
        }

        if (text.StartsWith('#'))
        {
            // A contained resource is a part of this one (a contained Patient's identifiers count
            // through it); "#" alone is the container itself.
            var contained = text.Length == 1 ? "" : containedType;
            return contained is null || (declaredType is not null && contained.Length > 0 && declaredType != contained) ? Link.Unresolvable : Link.None;
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

        switch (PatientReference.Classify(text, fhirServerBase, out patient, gatewayBase))
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
    public bool SecurityContext(JsonNode context, List<string> references, ref List<string>? contexts)
        => context is JsonObject reference && !reference.Any(member => !ReferenceMembers.Contains(member.Key))
           && FhirElements.TryGetString(reference, "reference", out var text) && SecurityContext(text, references, ref contexts);

    /// <summary>The same, over a <see cref="JsonElement"/>.</summary>
    public bool SecurityContext(JsonElement context, List<string> references, ref List<string>? contexts)
        => context.ValueKind == JsonValueKind.Object && !HasOtherMembers(context)
           && JsonElements.TryGetString(context, "reference", out var text) && SecurityContext(text, references, ref contexts);

    private bool SecurityContext(string text, List<string> references, ref List<string>? contexts)
    {
        if (!PatientReference.TryRelative(text, fhirServerBase, out var type, out var id, gatewayBase) || !FhirModel.R4.IsResourceType(type))
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
}
