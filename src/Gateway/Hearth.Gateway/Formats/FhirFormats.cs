using Hearth.Authorization.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Hearth.Gateway.Formats;

/// <summary>
/// Conversions between FHIR JSON (what Hearth asks the FHIR server for and judges) and FHIR XML
/// (what a client may ask for or send), with the Firely SDK.
/// </summary>
internal static class FhirFormats
{
    public const string XmlContentType = "application/fhir+xml; charset=utf-8";

    // Answers from the FHIR server are converted leniently (an unknown element does not lose the
    // whole answer); what clients send is read strictly (a malformed resource is refused).
    private static readonly FhirJsonDeserializer LenientJson = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));
    private static readonly FhirXmlDeserializer StrictXml = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
    private static readonly FhirXmlSerializer XmlWriter = new();
    private static readonly FhirJsonSerializer JsonWriter = new();

    /// <summary>Throws <see cref="FormatException"/> when the JSON is not a FHIR resource Firely can read.</summary>
    public static string JsonToXml(string json)
    {
        try
        {
            return XmlWriter.SerializeToString(LenientJson.Deserialize<Resource>(json));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException("The resource cannot be written as FHIR XML.", e);
        }
    }

    /// <summary>
    /// Throws <see cref="FormatException"/> when the XML is not a valid FHIR resource. Nesting is
    /// bounded first (<see cref="XmlShape"/>): the deserializer recurses on it.
    /// </summary>
    public static string XmlToJson(string xml)
    {
        if (XmlShape.Check(xml) is { } problem)
        {
            throw new FormatException(problem);
        }

        try
        {
            return JsonWriter.SerializeToString(StrictXml.Deserialize<Resource>(xml));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException("The body is not a valid FHIR XML resource.", e);
        }
    }

    /// <summary>Loads Firely's model once at start-up (the first use costs 0.5-1 s).</summary>
    public static void WarmUp() => JsonToXml("""{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}""");
}
