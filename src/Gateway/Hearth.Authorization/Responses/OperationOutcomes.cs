using System.Text;
using System.Text.Json;

namespace Hearth.Authorization.Responses;

/// <summary>Builds the FHIR OperationOutcome bodies of every error Hearth itself produces.</summary>
public static class OperationOutcomes
{
    public const string ContentType = "application/fhir+json; charset=utf-8";

    /// <param name="code">A FHIR issue-type code: login, forbidden, security, not-supported, exception, transient, ...</param>
    /// <param name="diagnostics">A plain sentence; never a token, a stack trace or data the caller may not see.</param>
    /// <param name="extensions">Extensions of the OperationOutcome: (url, value[x] name, value).</param>
    public static byte[] Create(string code, string diagnostics, string severity = "error", IReadOnlyList<(string Url, string ValueName, string Value)>? extensions = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Fhir.FhirJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", "OperationOutcome");
            if (extensions is { Count: > 0 })
            {
                writer.WriteStartArray("extension");
                foreach (var (url, valueName, value) in extensions)
                {
                    writer.WriteStartObject();
                    writer.WriteString("url", url);
                    writer.WriteString(valueName, value);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteStartArray("issue");
            writer.WriteStartObject();
            writer.WriteString("severity", severity);
            writer.WriteString("code", code);
            writer.WriteString("diagnostics", diagnostics);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    public static string CreateString(string code, string diagnostics, string severity = "error") => Encoding.UTF8.GetString(Create(code, diagnostics, severity));
}
