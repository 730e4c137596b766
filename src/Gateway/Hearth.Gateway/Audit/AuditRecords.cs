using System.Diagnostics;
using System.Text.Json;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Audit;

/// <summary>
/// One audit record as a JSON line (category <c>Hearth.Audit</c>): who (the token's subject and
/// client, the hash prefix that names the token in every log, the client's address), what
/// (interaction, type, id, operation, the search's parameters but a token), the decision and why
/// in general words (a refusal's own text, never the token), how many entries were served and
/// removed, the status, when, and the trace id.
/// </summary>
internal static class AuditRecords
{
    public const string Category = "Hearth.Audit";

    private const int MaxPatients = 100;

    /// <param name="realm">The UMA realm (Pauldron's UMA_SERVER_REALM) in UMA mode; null otherwise.</param>
    public static byte[] Serialize(HttpContext context, FhirRequest? request, RequestState? state, Refusal? refusal, string decision, DateTimeOffset recorded, string? realm)
    {
        using var buffer = new PooledBuffer(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("category", Category);
            writer.WriteString("recorded", recorded);
            writer.WriteString("traceId", Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier);
            writer.WriteString("decision", decision);
            writer.WriteNumber("status", context.Response.StatusCode);
            WriteIfSet(writer, "reason", refusal?.Diagnostics);
            writer.WriteString("interaction", request is null ? "unknown" : DecisionMetrics.InteractionName(request.Interaction));
            WriteIfSet(writer, "resourceType", request?.ResourceType);
            WriteIfSet(writer, "id", request?.Id);
            WriteIfSet(writer, "operation", request?.Operation);
            WriteParameters(writer, state?.Shape.Parameters);
            if (state is { Kept: >= 0 })
            {
                writer.WriteNumber("entriesReturned", state.Kept);
                writer.WriteNumber("entriesRemoved", state.Removed);
            }

            WritePatients(writer, state?.Judged);
            WriteIfSet(writer, "subject", state?.Principal.Subject);
            WriteIfSet(writer, "clientId", state?.Principal.ClientId);
            WriteIfSet(writer, "launchPatient", state?.Principal.Patient);
            WriteIfSet(writer, "realm", realm);
            WriteIfSet(writer, "token", state?.TokenHash is { } hash ? TokenKey.ForLog(hash) : null); // a hash prefix, as every log names it
            WriteIfSet(writer, "clientAddress", context.Connection.RemoteIpAddress?.ToString());
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory.ToArray();
    }

    /// <summary>The query or search form, every parameter but a token (which never reaches a log).</summary>
    private static void WriteParameters(Utf8JsonWriter writer, IQueryCollection? parameters)
    {
        if (parameters is null || parameters.Count == 0)
        {
            return;
        }

        writer.WriteStartObject("parameters");
        foreach (var (name, values) in parameters)
        {
            if (string.Equals(name, "access_token", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            writer.WriteStartArray(name);
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>The patients the judged resources belong to, as "Patient/{id}" on the FHIR server (at most <see cref="MaxPatients"/>).</summary>
    private static void WritePatients(Utf8JsonWriter writer, IEnumerable<Hearth.Authorization.Fhir.ResourceFacts>? judged)
    {
        if (judged is null)
        {
            return;
        }

        HashSet<string>? seen = null;
        foreach (var facts in judged)
        {
            if (facts.SelfReference is { } self)
            {
                Add(self);
            }

            foreach (var reference in facts.PatientReferences)
            {
                Add(reference);
            }
        }

        if (seen is not null)
        {
            writer.WriteEndArray();
        }

        void Add(string reference)
        {
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (seen.Count >= MaxPatients || !seen.Add(reference))
            {
                return;
            }

            if (seen.Count == 1)
            {
                writer.WriteStartArray("patients");
            }

            writer.WriteStringValue(reference);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
