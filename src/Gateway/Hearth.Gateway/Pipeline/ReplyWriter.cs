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
internal sealed class ReplyWriter(HearthSettings settings, RefusalWriter refusals, TimeProvider time)
{
    private static readonly string[] DroppedHeaders = ["Content-Length", "Transfer-Encoding", "Content-Encoding", "Content-MD5", "Server", "X-Powered-By"];

    /// <summary>Writes <paramref name="reply"/>. After forwarding, the FHIR server's headers are already on the response: a refusal clears them.</summary>
    public Task WriteAsync(HttpContext http, RequestState state, Reply reply, bool afterForwarding)
    {
        if (reply.Refusal is { } refusal)
        {
            if (afterForwarding)
            {
                http.Response.Headers.Clear();
            }

            return refusals.WriteAsync(http, state.Request, state.Shape.Parameters, refusal);
        }

        return WriteAnswerAsync(http, state, reply.Answer!);
    }

    /// <summary>A refusal before there is any request state (an unclassifiable request, a failed check).</summary>
    public Task WriteRefusalAsync(HttpContext http, FhirRequest? request, Refusal refusal) => refusals.WriteAsync(http, request, null, refusal);

    private async Task WriteAnswerAsync(HttpContext http, RequestState state, Answer answer)
    {
        if (state.ExpiresAt is { } exp && exp <= time.GetUtcNow())
        {
            // The exp may pass while the FHIR server or the judging takes its time: nothing is served after it.
            http.Response.Headers.Clear();
            await refusals.WriteAsync(http, state.Request, state.Shape.Parameters, new Refusal.InvalidToken());
            return;
        }

        var contentType = answer.ContentType;
        var body = answer.Body;
        if (answer.IsFhirJson && body.Length > 0)
        {
            var rewritten = UrlRewriter.Rewrite(Encoding.UTF8.GetString(body), settings.FhirServer.Base, state.PublicBase);
            if (state.ResponseFormat == FhirFormat.Xml)
            {
                rewritten = ToXml(rewritten);
                contentType = FhirFormats.XmlContentType;
            }

            body = Encoding.UTF8.GetBytes(rewritten);
        }

        SetHeaders(http.Response.Headers, answer, state.PublicBase);
        http.Response.StatusCode = answer.Status;
        if (answer.Stream is { } stream)
        {
            await StreamAsync(http, contentType, stream);
            return;
        }

        await WriteBodyAsync(http, contentType, body);
    }

    /// <summary>Sets the content headers and writes the body, except to a HEAD request.</summary>
    public static async Task WriteBodyAsync(HttpContext context, string? contentType, byte[] body)
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
        foreach (var name in DroppedHeaders.Concat(answer.DropHeaders))
        {
            headers.Remove(name);
        }

        if (!answer.KeepValidators)
        {
            headers.ETag = default;
            headers.LastModified = default;
        }

        foreach (var name in new[] { "Location", "Content-Location" })
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
