using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Requests;

/// <summary>
/// The patients a request names by itself, without asking the FHIR server: Patient ids (the URL
/// of a Patient, a Patient compartment, a <c>patient</c>/<c>subject</c> parameter) and patient
/// identifiers (chained <c>patient.identifier</c> parameters, a Patient search by identifier).
/// Used for the UMA ticket of a request that has no usable token.
/// </summary>
public static class RequestPatients
{
    private static readonly string[] IdParameters = ["patient", "patient:Patient", "subject:Patient"];
    private static readonly string[] IdentifierParameters = ["patient.identifier", "patient:Patient.identifier", "subject:Patient.identifier"];

    public static (IReadOnlyList<string> Ids, IReadOnlyList<PatientIdentifier> Identifiers) Named(
        FhirRequest request, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> parameters)
    {
        var ids = new List<string>();
        var identifiers = new List<PatientIdentifier>();
        if (request.ResourceType == "Patient" && request.Id is { } id && request.Interaction != FhirInteraction.SearchCompartment)
        {
            ids.Add(id);
        }

        if (request.Interaction == FhirInteraction.SearchCompartment && request.Compartment == "Patient" && request.Id is { } compartment)
        {
            ids.Add(compartment);
        }

        foreach (var (name, values) in parameters)
        {
            foreach (var value in QueryValues.Split(values))
            {
                if (IdParameters.Contains(name) || (name == "subject" && value.StartsWith("Patient/", StringComparison.Ordinal))
                    || (request.ResourceType == "Patient" && name == "_id"))
                {
                    var patientId = value.StartsWith("Patient/", StringComparison.Ordinal) ? value["Patient/".Length..] : value;
                    if (patientId.Length > 0 && !patientId.Contains('/'))
                    {
                        ids.Add(patientId);
                    }
                }
                else if (IdentifierParameters.Contains(name) || (request.ResourceType == "Patient" && name == "identifier"))
                {
                    var bar = value.IndexOf('|');
                    var identifier = bar < 0 ? new PatientIdentifier(null, value) : new PatientIdentifier(bar == 0 ? null : value[..bar], value[(bar + 1)..]);
                    if (identifier.Value.Length > 0)
                    {
                        identifiers.Add(identifier);
                    }
                }
            }
        }

        return (ids.Distinct(StringComparer.Ordinal).ToList(), identifiers.Distinct().ToList());
    }
}
