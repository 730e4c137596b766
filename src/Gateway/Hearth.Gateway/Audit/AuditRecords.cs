using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.Audit;

/// <summary>
/// One audit record as a JSON line (category <c>Hearth.Audit</c>): who (the token's subject and
/// client, the hash prefix that names the token in every log, the client's address), what
/// (interaction, type, id, operation, the search's parameters but a token), why it was asked (the
/// token's purposes of use) and by whom (its fhirUser), the decision and why
/// in general words (a refusal's own text, never the token), how many entries were served and
/// removed, the status, when, and the trace id.
/// </summary>
internal static class AuditRecords
{
    public const string Category = "Hearth.Audit";

    private const int MaxPatients = 100;

    /// <summary>One writer and its buffer per thread, reused: a record costs its own bytes and nothing else.</summary>
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _perThread;

    /// <summary>The patients already written into the record being made (per thread, emptied after each record).</summary>
    [ThreadStatic]
    private static HashSet<string>? _seen;

    /// <param name="realm">The UMA realm (Pauldron's UMA_SERVER_REALM) in UMA mode; null otherwise.</param>
    public static byte[] Serialize(HttpContext context, FhirRequest? request, RequestState? state, Refusal? refusal, string decision, DateTimeOffset recorded, string? realm)
    {
        var (buffer, writer) = _perThread ??= NewWriter();
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("category", Category);
        writer.WriteString("recorded", recorded);
        WriteTraceId(writer, context);
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
        WriteIfSet(writer, "fhirUser", state?.Principal.FhirUser);
        WhyAndPolicy(writer, state, decision);

        WriteIfSet(writer, "realm", realm);
        if (state?.TokenHash is { } hash)
        {
            writer.WriteString("token", hash.AsSpan(0, Math.Min(hash.Length, 12))); // a hash prefix, as every log names it (TokenKey.ForLog)
        }

        WriteClientAddress(writer, context.Connection.RemoteIpAddress);
        writer.WriteEndObject();
        writer.Flush();
        if (buffer.Capacity > 64 * 1024)
        {
            _perThread = null; // a record with a huge search string: its buffer is not kept
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The token's purposes of use; with the Consent policy, which policy decided a deny or redaction, and whether the glass was broken.</summary>
    private static void WhyAndPolicy(Utf8JsonWriter writer, RequestState? state, string decision)
    {
        if (state?.Ledger is { } ledger)
        {
            if (decision is "deny" or "redact")
            {
                writer.WriteString("policy", ledger.DecidingPolicy);
                WriteIfSet(writer, "policyReason", ledger.Reason);
            }

            if (ledger.MustNotDiscloseFurther && decision is "permit" or "redact")
            {
                writer.WriteString("obligation", Hearth.Authorization.Policies.LabelObligations.NoFurtherDisclosure);
            }

            if (ledger.BrokeTheGlass && decision is "permit" or "redact")
            {
                writer.WriteBoolean("breakTheGlass", true);
            }
        }

        if (state?.Principal.PurposeOfUse is { Count: > 0 } purposes)
        {
            writer.WriteStartArray("purposeOfUse");
            foreach (var purpose in purposes)
            {
                writer.WriteStringValue(purpose);
            }

            writer.WriteEndArray();
        }
    }

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewWriter()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        return (buffer, new Utf8JsonWriter(buffer, Hearth.Authorization.Fhir.FhirJson.WriterOptions)); // readable: "+", "&" as they are
    }

    /// <summary>The request's trace id (its span's, formatted in place), else ASP.NET Core's request id.</summary>
    private static void WriteTraceId(Utf8JsonWriter writer, HttpContext context)
    {
        if (Activity.Current is { } activity)
        {
            Span<byte> raw = stackalloc byte[16];
            Span<char> id = stackalloc char[32];
            activity.TraceId.CopyTo(raw);
            Convert.TryToHexStringLower(raw, id, out _); // as ActivityTraceId.ToHexString() gives it
            writer.WriteString("traceId", id);
            return;
        }

        writer.WriteString("traceId", context.TraceIdentifier);
    }

    private static void WriteClientAddress(Utf8JsonWriter writer, System.Net.IPAddress? address)
    {
        Span<byte> text = stackalloc byte[64]; // an address as UTF-8, formatted in place
        if (address is not null && address.TryFormat(text, out var length))
        {
            writer.WriteString("clientAddress", text[..length]);
        }
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
    private static void WritePatients(Utf8JsonWriter writer, IReadOnlyList<Hearth.Authorization.Fhir.ResourceFacts>? judged)
    {
        if (judged is null)
        {
            return;
        }

        var seen = _seen ??= new HashSet<string>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < judged.Count && seen.Count < MaxPatients; i++)
            {
                var facts = judged[i];
                if (facts.SelfReference is { } self)
                {
                    Add(writer, seen, self);
                }

                var references = facts.PatientReferences;
                for (var r = 0; r < references.Count && seen.Count < MaxPatients; r++)
                {
                    Add(writer, seen, references[r]);
                }
            }

            if (seen.Count > 0)
            {
                writer.WriteEndArray();
            }
        }
        finally
        {
            seen.Clear(); // nothing of one request is kept for the next
        }

        static void Add(Utf8JsonWriter writer, HashSet<string> seen, string reference)
        {
            if (!seen.Add(reference))
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
