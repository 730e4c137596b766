using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;

namespace Hearth.Gateway.Authorization;

/// <summary>Writes the OperationOutcome answers Hearth itself gives, with RFC 6750 / UMA headers.</summary>
internal sealed class HearthResponses(HearthSettings settings)
{
    private readonly string _realm = Sanitize(string.IsNullOrEmpty(settings.UmaServerRealm) ? "hearth" : settings.UmaServerRealm);

    /// <summary>Writes Hearth's own OperationOutcome, in XML when the client asked for XML.</summary>
    public static async Task WriteOutcomeAsync(HttpContext context, int status, string code, string diagnostics)
    {
        var body = OperationOutcomes.Create(code, diagnostics);
        var contentType = OperationOutcomes.ContentType;
        if (ClientFormat(context.Request) == FhirFormat.Xml)
        {
            body = System.Text.Encoding.UTF8.GetBytes(FhirFormats.JsonToXml(System.Text.Encoding.UTF8.GetString(body)));
            contentType = FhirFormats.XmlContentType;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>The format negotiated from _format (query) and Accept.</summary>
    public static FhirFormat ClientFormat(HttpRequest request)
        => FormatNegotiation.Negotiate(request.Query["_format"].Select(v => v ?? "").ToList(), request.Headers.Accept.Select(v => v ?? ""));

    /// <summary>No token (401) or a malformed Authorization header (400).</summary>
    public Task NoTokenAsync(HttpContext context, bool malformed)
    {
        if (malformed)
        {
            SetChallenge(context, "invalid_request", "The Authorization header is not a single well-formed bearer token.");
            return WriteOutcomeAsync(context, 400, "login", "The Authorization header must carry exactly one bearer token.");
        }

        SetChallenge(context, null, null);
        return WriteOutcomeAsync(context, 401, "login", "This request needs a bearer access token.");
    }

    /// <summary>Unknown, inactive or expired token: 401.</summary>
    public Task InvalidTokenAsync(HttpContext context)
    {
        SetChallenge(context, "invalid_token", "The access token is not active.");
        return WriteOutcomeAsync(context, 401, "login", "The access token is invalid, expired or revoked.");
    }

    /// <summary>The token does not grant what the request needs: 403 insufficient_scope.</summary>
    public Task InsufficientAsync(HttpContext context)
    {
        SetChallenge(context, "insufficient_scope", "The access token does not grant access to this data.");
        return WriteOutcomeAsync(context, 403, "forbidden", "The access token does not grant access to the requested data.");
    }

    /// <summary>The authorization server cannot be asked and nothing is cached: 503 (OAuth) or 403 + Warning (UMA).</summary>
    public Task AuthorizationServerUnavailableAsync(HttpContext context)
    {
        if (settings.UmaMode)
        {
            context.Response.Headers.Warning = "199 - \"UMA Authorization Server Unreachable\"";
            return WriteOutcomeAsync(context, 403, "transient", "The authorization server is unreachable; the token could not be checked.");
        }

        context.Response.Headers.RetryAfter = "5";
        return WriteOutcomeAsync(context, 503, "transient", "The authorization server is unreachable; the token could not be checked. Try again later.");
    }

    private void SetChallenge(HttpContext context, string? error, string? description)
    {
        if (settings.UmaMode)
        {
            // Ticket registration (UMA) is not implemented yet: the challenge names the realm and server.
            context.Response.Headers.WWWAuthenticate = $"UMA realm=\"{_realm}\", as_uri=\"{Sanitize(settings.UmaServerBase)}\"";
            return;
        }

        var challenge = $"Bearer realm=\"{_realm}\"";
        if (error is not null)
        {
            challenge += $", error=\"{error}\", error_description=\"{description}\"";
        }

        context.Response.Headers.WWWAuthenticate = challenge;
    }

    private static string Sanitize(string value) => new(value.Where(c => c >= ' ' && c <= '~' && c is not '"' and not '\\').ToArray());
}
