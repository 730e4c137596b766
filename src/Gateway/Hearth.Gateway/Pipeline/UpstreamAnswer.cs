using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Responses;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The FHIR server's answer, read whole (bounded) and made valid Unicode, so that it can be judged:
/// nothing of it reaches the client unjudged.
/// </summary>
internal sealed class UpstreamAnswer : IDisposable
{
    /// <summary>Upstream bodies larger than this are refused (502) rather than buffered.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    private byte[]? _rented;

    private UpstreamAnswer(HttpResponseMessage message, ReadOnlyMemory<byte> body, byte[]? rented)
    {
        Message = message;
        Body = body;
        _rented = rented;
    }

    public HttpResponseMessage Message { get; }

    public int Status => (int)Message.StatusCode;

    /// <summary>The body, in a pooled array until this answer is disposed (after the reply is written): nothing may keep it.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public bool Succeeded => Status is >= 200 and < 300;

    /// <summary>One Content-Type, of a JSON media type (read from the header as sent, not parsed into objects).</summary>
    public bool IsJson => Message.Content.Headers.NonValidated.TryGetValues("Content-Type", out var values) && values.Count == 1 && IsJsonMediaType(values.ToString());

    internal static bool IsJsonMediaType(string contentType)
    {
        var semicolon = contentType.IndexOf(';');
        var type = (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim(" \t");
        return type.Equals("application/fhir+json", StringComparison.OrdinalIgnoreCase) || type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Equals("application/json+fhir", StringComparison.OrdinalIgnoreCase);
    }

    /// <exception cref="UpstreamException">Compressed (none was asked for), larger than <see cref="MaxBytes"/>, or cut off.</exception>
    public static async ValueTask<UpstreamAnswer> ReadAsync(HttpResponseMessage upstream, CancellationToken cancellationToken)
    {
        // Read as sent (not parsed into a collection of its own): any value but "identity" is refused.
        if (upstream.Content.Headers.NonValidated.TryGetValues("Content-Encoding", out var encodings)
            && encodings.Any(e => !string.Equals(e.Trim(), "identity", StringComparison.OrdinalIgnoreCase)))
        {
            throw new UpstreamException("The FHIR server sent a compressed body although none was asked for.");
        }

        if (upstream.Content.Headers.ContentLength > MaxBytes)
        {
            throw new UpstreamException("The FHIR server's answer is too large to authorize.");
        }

        (byte[] Rented, int Length)? body;
        try
        {
            await using var stream = upstream.Content.ReadAsStream(cancellationToken); // the connection's stream, already there: no task for it
            body = await OutboundHttp.ReadRentedAtMostAsync(stream, MaxBytes, cancellationToken, upstream.Content.Headers.ContentLength);
        }
        catch (Exception e) when (OutboundHttp.Map(e, cancellationToken) is not null)
        {
            throw new UpstreamException("The FHIR server's answer was cut off.");
        }

        if (body is not { } read)
        {
            throw new UpstreamException("The FHIR server's answer is too large to authorize.");
        }

        // What the FHIR server holds is served even when it is not valid Unicode (invalid UTF-8, a
        // lone surrogate escaped): replaced, so that one bad resource never fails anyone's answer.
        var bytes = read.Rented.AsMemory(0, read.Length);
        if (FhirJson.IsFit(bytes.Span))
        {
            return new UpstreamAnswer(upstream, bytes, read.Rented);
        }

        var sanitized = FhirJson.Sanitize(bytes.ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(read.Rented);
        return new UpstreamAnswer(upstream, sanitized, null);
    }

    /// <summary>The FHIR server's error: its OperationOutcome passes (rewritten); anything else is replaced by Hearth's.</summary>
    public Reply PassError()
    {
        if (Status == 304)
        {
            return Refusal.Problem(502, "exception", "The FHIR server answered 304 to an unconditional request.");
        }

        if (IsJson && FhirJson.TryParse(Body.Span) is JsonObject outcome && FhirElements.IsResource(outcome, out _, out var type) && type == "OperationOutcome")
        {
            return new Answer(Status, OperationOutcomes.ContentType, Body);
        }

        if (Status >= 500)
        {
            return Refusal.Problem(502, "exception", $"The FHIR server failed with status {Status}.");
        }

        var code = Status == 404 ? "not-found" : Status is 401 or 403 ? "security" : "processing";
        return Refusal.Problem(Status, code, $"The FHIR server answered {Status}.");
    }
}
