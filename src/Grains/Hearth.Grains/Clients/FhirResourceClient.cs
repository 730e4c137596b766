using System.Net.Http.Headers;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.ServiceDefaults;
using Hearth.Grains.Abstractions;

namespace Hearth.Grains.Clients;

/// <summary>Reads one resource from the FHIR server for a grain: a Patient's identifiers, or the facts of a Binary's security context.</summary>
public sealed class FhirResourceClient(HttpClient http, HearthSettings settings)
{
    public const string HttpClientName = "hearth-fhir-reads";

    /// <summary>A Patient or a security context larger than this is not read (Unavailable).</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private readonly ResourceInspector _inspector = new(settings.Rules);

    public async Task<PatientLookup> FetchPatientAsync(string absoluteReference, CancellationToken cancellationToken)
    {
        var (status, body) = await ReadAsync(absoluteReference, cancellationToken);
        return status == PatientLookupStatus.Found ? ReadPatient(body!) : new PatientLookup(status, []);
    }

    /// <summary>
    /// The facts of the resource at <paramref name="absoluteReference"/> of type <paramref name="type"/>
    /// (with its embedded resources). Unresolvable when it is not such a resource or has security
    /// contexts of its own (a chain of contexts is not followed).
    /// </summary>
    public async Task<SecurityContextLookup> FetchContextAsync(string absoluteReference, string type, CancellationToken cancellationToken)
    {
        var (status, body) = await ReadAsync(absoluteReference, cancellationToken);
        if (status != PatientLookupStatus.Found)
        {
            return SecurityContextLookup.Missing(status);
        }

        var facts = _inspector.Inspect(FhirJson.TryParse(body));
        if (facts is null || facts.ResourceType != type)
        {
            return SecurityContextLookup.Missing(PatientLookupStatus.Unavailable);
        }

        return new SecurityContextLookup(
            PatientLookupStatus.Found,
            facts.ResourceType,
            facts.Labels.Select(l => new SecurityLabelValue(l.System, l.Code)).ToList(),
            facts.PatientReferences,
            facts.InlinePatients.Select(p => (IReadOnlyList<PatientIdentifierValue>)p.Select(i => new PatientIdentifierValue(i.System, i.Value)).ToList()).ToList(),
            facts.PatientLink == PatientLinkKind.Unresolvable || facts.SecurityContexts.Count > 0);
    }

    /// <summary>The most Consents one patient may have that Hearth reads; a patient with more cannot be judged (Unavailable).</summary>
    public const int MaxConsents = 100;

    /// <summary>
    /// The active patient-privacy Consents of the Patient at <paramref name="absolutePatient"/>
    /// (one search; a next page means more than <see cref="MaxConsents"/>: Unavailable).
    /// </summary>
    public async Task<ConsentLookup> FetchConsentsAsync(string absolutePatient, CancellationToken cancellationToken)
    {
        var patient = absolutePatient[(settings.FhirServer.Base.Length + 1)..];
        var (status, body) = await ReadAsync($"{settings.FhirServer.Base}/Consent?patient={Uri.EscapeDataString(patient)}&status=active&_count={MaxConsents}", cancellationToken);
        if (status != PatientLookupStatus.Found || FhirJson.TryParse(body) is not JsonObject bundle || !FhirElements.TryGetString(bundle, "resourceType", out var type) || type != "Bundle"
            || (bundle["link"] as JsonArray ?? []).OfType<JsonObject>().Any(l => FhirElements.TryGetString(l, "relation", out var relation) && relation == "next"))
        {
            return new ConsentLookup(status == PatientLookupStatus.NotFound ? PatientLookupStatus.Found : PatientLookupStatus.Unavailable, []);
        }

        var consents = (bundle["entry"] as JsonArray ?? []).OfType<JsonObject>().Select(e => e["resource"]).OfType<JsonObject>()
            .Where(r => FhirElements.TryGetString(r, "resourceType", out var t) && t == "Consent").Select(r => r.ToJsonString()).ToList();
        return new ConsentLookup(PatientLookupStatus.Found, consents);
    }

    /// <summary>Found with the body, NotFound (404/410), or Unavailable (anything else, or no usable answer in time).</summary>
    private async Task<(PatientLookupStatus Status, byte[]? Body)> ReadAsync(string absoluteReference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, absoluteReference);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        try
        {
            var answer = await OutboundHttp.SendAsync(http, request, settings.Cluster.PatientFetchTimeout, MaxBytes, status => status == HttpStatusCode.OK, cancellationToken);
            return answer.Status switch
            {
                HttpStatusCode.OK => (PatientLookupStatus.Found, FhirJson.Sanitize(answer.Body!)),
                HttpStatusCode.NotFound or HttpStatusCode.Gone => (PatientLookupStatus.NotFound, null),
                _ => (PatientLookupStatus.Unavailable, null),
            };
        }
        catch (OutboundException)
        {
            return (PatientLookupStatus.Unavailable, null);
        }
    }

    /// <summary>The identifiers of a Patient resource; Unavailable when the body is not a Patient.</summary>
    internal static PatientLookup ReadPatient(byte[] body)
    {
        try
        {
            if (FhirJson.TryParse(body) is not JsonObject patient
                || !FhirElements.TryGetString(patient, "resourceType", out var type) || type != "Patient")
            {
                return new PatientLookup(PatientLookupStatus.Unavailable, []);
            }

            var identifiers = FhirElements.Identifiers(patient).Select(i => new PatientIdentifierValue(i.System, i.Value)).ToList();
            return new PatientLookup(PatientLookupStatus.Found, identifiers);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return new PatientLookup(PatientLookupStatus.Unavailable, []);
        }
    }
}
