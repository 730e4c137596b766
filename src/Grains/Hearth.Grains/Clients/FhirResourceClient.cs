using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;

namespace Hearth.Grains.Clients;

/// <summary>Fetches a Patient from the FHIR server to read its identifiers.</summary>
public sealed class FhirPatientClient(HttpClient http, HearthSettings settings)
{
    public const string HttpClientName = "hearth-fhir-patients";

    public async Task<PatientLookup> FetchAsync(string absoluteReference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, absoluteReference);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.PatientFetchTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                return new PatientLookup(PatientLookupStatus.NotFound, []);
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new PatientLookup(PatientLookupStatus.Unavailable, []);
            }

            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return Read(body);
        }
        catch (HttpRequestException)
        {
            return new PatientLookup(PatientLookupStatus.Unavailable, []);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PatientLookup(PatientLookupStatus.Unavailable, []);
        }
    }

    /// <summary>The identifiers of a Patient resource; Unavailable when the body is not a Patient.</summary>
    internal static PatientLookup Read(byte[] body)
    {
        try
        {
            if (FhirJson.TryParse(body) is not JsonObject patient
                || !ResourceInspector.TryGetString(patient, "resourceType", out var type) || type != "Patient")
            {
                return new PatientLookup(PatientLookupStatus.Unavailable, []);
            }

            var identifiers = ResourceInspector.Identifiers(patient).Select(i => new PatientIdentifierValue(i.System, i.Value)).ToList();
            return new PatientLookup(PatientLookupStatus.Found, identifiers);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return new PatientLookup(PatientLookupStatus.Unavailable, []);
        }
    }
}
