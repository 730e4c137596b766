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

        var kind = unresolvable ? PatientLinkKind.Unresolvable
            : references.Count > 0 || inline.Count > 0 ? PatientLinkKind.Patients
            : PatientLinkKind.OutsideCompartment;
        return new ResourceFacts(type, SecurityLabel.HighWaterMark(parts.SelectMany(p => p.Labels)), kind, references, inline)
        {
            SecurityContexts = contexts,
            Parts = parts,
            SelfReference = parts[0].SelfReference,
            Resource = parts[0].Resource,
        };
    }

}
