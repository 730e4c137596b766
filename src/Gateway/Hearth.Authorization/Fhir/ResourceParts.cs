namespace Hearth.Authorization.Fhir;

/// <summary>How the facts of a resource's parts (itself and what is embedded in it) make the facts of the whole; shared by both inspectors.</summary>
internal static class ResourceParts
{
    /// <summary>A resource and its embedded resources judged as one: every patient, the highest confidentiality, unresolvable if any part is.</summary>
    public static ResourceFacts Combine(string type, List<ResourceFacts> parts)
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

        var kind = Kind(unresolvable, references.Count + inline.Count);
        return new ResourceFacts(type, SecurityLabel.HighWaterMark(parts.SelectMany(p => p.Labels)), kind, references, inline)
        {
            SecurityContexts = contexts,
            Parts = parts,
            SelfReference = parts[0].SelfReference,
            Element = parts[0].Element,
            Resource = parts[0].Element is null ? parts[0].Resource : null,
        };
    }


    /// <summary>Adds what one compartment element links to (a patient by reference, once; a patient inline); false when the link is unresolvable.</summary>
    public static bool Add(CompartmentReferences.Link link, string? patient, IReadOnlyList<PatientIdentifier>? inlinePatient, List<string> references, List<IReadOnlyList<PatientIdentifier>> inline)
    {
        switch (link)
        {
            case CompartmentReferences.Link.Reference when !references.Contains(patient!):
                references.Add(patient!);
                return true;
            case CompartmentReferences.Link.Inline:
                inline.Add(inlinePatient!);
                return true;
            case CompartmentReferences.Link.Unresolvable:
                return false;
            default:
                return true;
        }
    }

    /// <summary>How a resource is tied to patients: not at all when it names none; unresolvable when any link is.</summary>
    public static PatientLinkKind Kind(bool unresolvable, int patients)
        => unresolvable ? PatientLinkKind.Unresolvable : patients > 0 ? PatientLinkKind.Patients : PatientLinkKind.OutsideCompartment;
}
