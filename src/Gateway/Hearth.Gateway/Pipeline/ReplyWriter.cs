using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Hearth.Gateway.Resolution;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The one writer of what a client gets from Hearth: answers (the judged body, its headers from
/// the FHIR server filtered and pointed at the gateway, FHIR XML when asked, never after the
/// token's exp) and refusals (<see cref="RefusalWriter"/>).
/// </summary>
internal sealed class ReplyWriter(HearthSettings settings, RefusalWriter refusals, Audit.AuditTrail audit, TimeProvider time)
{
    /// <summary>The header every break-the-glass answer carries (RFC 7234 Warning, as UMA mode's warnings).</summary>
    /// <summary>Names the v3-ObligationPolicy codes the answer carries (NOAUTH: no further disclosure without the patient's authorization).</summary>
    public const string ObligationHeader = "Hearth-Obligation";

    public const string NoFurtherDisclosureWarning = "199 - \"No further disclosure without the patient's authorization (obligation NOAUTH)\"";

    public const string BreakGlassWarning = "199 - \"Break-the-glass: served for purpose of use BTG past a patient's Consent; this access is audited\"";

    private readonly byte[] _fhirBase = Encoding.UTF8.GetBytes(settings.FhirServer.Base);

    /// <summary>The last public base seen, as UTF-8 (it is the same for nearly every request).</summary>
    private Utf8Base _publicBase = new("", []);

    private static readonly string[] LocationHeaders = ["Location", "Content-Location"];
    private static readonly string[] DroppedHeaders = ["Content-Length", "Transfer-Encoding", "Content-Encoding", "Content-MD5", "Server", "X-Powered-By"];

    /// <summary>Writes <paramref name="reply"/>. After forwarding, the FHIR server's headers are already on the response: a refusal clears them.</summary>
    public Task WriteAsync(HttpContext http, RequestState state, Reply reply, bool afterForwarding)
    {
        if (reply.Refusal is null && state.Ledger is { } ledger)
        {
            reply = Obligations(http, state, ledger, reply);
        }

        if (reply.Refusal is { } refusal)
        {
            if (afterForwarding)
            {
                http.Response.Headers.Clear();
            }

            state.Refused = refusal;
            return refusals.WriteAsync(http, state.Request, state.Shape.Parameters, refusal);
        }

        return WriteOwnedAsync(http, state, reply.Answer!);
    }

    /// <summary>
    /// What the policy chain asks of a served answer: break-the-glass is served only with its audit
    /// record's place held (else 503), with its Warning, counted; a resource with the NOAUTH
    /// obligation is served with <see cref="ObligationHeader"/> and a Warning saying so.
    /// </summary>
    private Reply Obligations(HttpContext http, RequestState state, Hearth.Authorization.Policies.PolicyLedger ledger, Reply reply)
    {
        if (ledger.BrokeTheGlass)
        {
            if (!audit.TryReserve(state))
            {
                return Refusal.Problem(503, "transient", "Break-the-glass access is served only with its audit record, which cannot be queued now; try again.");
            }

            http.Response.Headers.Append("Warning", BreakGlassWarning);
            Hearth.ServiceDefaults.HearthTelemetry.BreakGlass.Add(1);
        }

        if (ledger.MustNotDiscloseFurther)
        {
            http.Response.Headers[ObligationHeader] = Hearth.Authorization.Policies.LabelObligations.NoFurtherDisclosure;
            http.Response.Headers.Append("Warning", NoFurtherDisclosureWarning);
        }

        return reply;
    }

    private async Task WriteOwnedAsync(HttpContext http, RequestState state, Answer answer)
    {
        try
        {
            await WriteAnswerAsync(http, state, answer);
        }
        finally
        {
            answer.Owner?.Dispose();
        }
    }

    /// <summary>A refusal before there is any request state (an unclassifiable request, a failed check).</summary>
    public Task WriteRefusalAsync(HttpContext http, FhirRequest? request, Refusal refusal) => refusals.WriteAsync(http, request, null, refusal);

    private async Task WriteAnswerAsync(HttpContext http, RequestState state, Answer answer)
    {
        if (state.ExpiresAt is { } exp && exp <= time.GetUtcNow())
        {
            // The exp may pass while the FHIR server or the judging takes its time: nothing is served after it.
            http.Response.Headers.Clear();
            state.Refused = new Refusal.InvalidToken();
            await refusals.WriteAsync(http, state.Request, state.Shape.Parameters, state.Refused);
            return;
        }

        var contentType = answer.ContentType;
        var body = answer.Body;
        using var xmlSource = answer.Edited is { } edited && state.ResponseFormat == FhirFormat.Xml ? new PooledBuffer(64 * 1024) : null;
        if (xmlSource is not null)
        {
            // XML is converted from the whole JSON: the Bundle is written out first.
            answer.Edited!.Edit.Write(answer.Edited.Document, xmlSource);
            body = xmlSource.WrittenMemory;
        }

        var rewrite = answer.IsFhirJson && body.Length > 0;
        if (rewrite && state.ResponseFormat == FhirFormat.Xml)
        {
            body = Encoding.UTF8.GetBytes(ToXml(UrlRewriter.Rewrite(Encoding.UTF8.GetString(body.Span), settings.FhirServer.Base, state.PublicBase)));
            contentType = FhirFormats.XmlContentType;
            rewrite = false;
        }

        SetHeaders(http.Response.Headers, answer, state.PublicBase);
        http.Response.StatusCode = answer.Status;
        if (answer.Stream is { } stream)
        {
            await StreamAsync(http, contentType, stream);
            return;
        }

        if (answer.Edited is { } bundle && xmlSource is null)
        {
            await WriteEditedAsync(http, contentType, bundle, state.PublicBase);
            return;
        }

        if (rewrite)
        {
            await WriteRewrittenAsync(http, contentType, body, state.PublicBase);
            return;
        }

        await WriteBodyAsync(http, contentType, body);
    }

    /// <summary>A judged Bundle written from the FHIR server's bytes straight into the response (no buffer of its own), the base rewritten on the way.</summary>
    private async Task WriteEditedAsync(HttpContext http, string? contentType, EditedBundle bundle, string publicBase)
    {
        var to = PublicBaseUtf8(publicBase);
        http.Response.ContentType = contentType;
        http.Response.ContentLength = bundle.Length(_fhirBase, to);
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            bundle.WriteTo(http.Response.BodyWriter, _fhirBase, to);
            await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
        }
    }

    private byte[] PublicBaseUtf8(string publicBase)
    {
        var seen = _publicBase;
        if (seen.Text != publicBase)
        {
            _publicBase = seen = new Utf8Base(publicBase, Encoding.UTF8.GetBytes(publicBase));
        }

        return seen.Utf8;
    }

    /// <summary>The FHIR server's base replaced by the gateway's on the bytes, as they are written (one pass, no copy).</summary>
    private async Task WriteRewrittenAsync(HttpContext http, string? contentType, ReadOnlyMemory<byte> body, string publicBase)
    {
        var from = _fhirBase;
        var to = PublicBaseUtf8(publicBase);
        http.Response.ContentType = contentType;
        http.Response.ContentLength = UrlRewriter.RewrittenLength(body.Span, from, to);
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            UrlRewriter.Rewrite(body.Span, from, to, http.Response.BodyWriter);
            await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
        }
    }

    /// <summary>Sets the content headers and writes the body, except to a HEAD request.</summary>
    public static async Task WriteBodyAsync(HttpContext context, string? contentType, ReadOnlyMemory<byte> body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method) && body.Length > 0)
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private static async Task StreamAsync(HttpContext http, string? contentType, Func<Stream, CancellationToken, Task> stream)
    {
        http.Response.ContentType = contentType;
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        try
        {
            await stream(http.Response.Body, http.RequestAborted);
        }
        catch (Exception) when (http.Response.HasStarted)
        {
            http.Abort(); // a client must not take a cut-off body for a whole one
        }
    }

    /// <summary>Drops hop and server headers, and points Location / Content-Location at the gateway.</summary>
    private void SetHeaders(IHeaderDictionary headers, Answer answer, string publicBase)
    {
        foreach (var name in DroppedHeaders)
        {
            headers.Remove(name);
        }

        foreach (var name in answer.DropHeaders)
        {
            headers.Remove(name);
        }

        if (!answer.KeepValidators)
        {
            headers.ETag = default;
            headers.LastModified = default;
        }

        foreach (var name in LocationHeaders)
        {
            if (headers.TryGetValue(name, out var value) && value.Count == 1)
            {
                headers[name] = UrlRewriter.RewriteHeader(value[0]!, settings.FhirServer.Base, publicBase);
            }
            else if (value.Count > 1)
            {
                headers.Remove(name);
            }
        }

        foreach (var (name, value) in answer.Headers)
        {
            headers[name] = value;
        }
    }

    private sealed record Utf8Base(string Text, byte[] Utf8);

    private static string ToXml(string json)
    {
        try
        {
            return FhirFormats.JsonToXml(json);
        }
        catch (FormatException)
        {
            throw new UpstreamException("The FHIR server's answer cannot be converted to FHIR XML.");
        }
    }
}
