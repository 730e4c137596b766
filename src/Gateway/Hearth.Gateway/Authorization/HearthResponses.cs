using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;

namespace Hearth.Gateway.Authorization;

/// <summary>Writes the OperationOutcome answers Hearth itself gives, with RFC 6750 / UMA headers.</summary>
internal sealed class HearthResponses(HearthSettings settings, UmaTickets tickets)
{
    /// <summary>Extensions of the OperationOutcome of a UMA challenge: what Pauldron puts in its body.</summary>
    public const string TicketExtension = "urn:hearth:uma:ticket";
    public const string AsUriExtension = "urn:hearth:uma:as_uri";
    public const string AuthorizationEndpointExtension = "urn:hearth:uma:authorization_endpoint";

    private readonly string _realm = Sanitize(string.IsNullOrEmpty(settings.UmaServerRealm) ? "hearth" : settings.UmaServerRealm);

    /// <summary>Writes Hearth's own OperationOutcome, in XML when the client asked for XML.</summary>
    public static Task WriteOutcomeAsync(HttpContext context, int status, string code, string diagnostics)
        => WriteOutcomeAsync(context, status, OperationOutcomes.Create(code, diagnostics));

    private static async Task WriteOutcomeAsync(HttpContext context, int status, byte[] body)
    {
        var contentType = OperationOutcomes.ContentType;
        if (ClientFormat(context.Request) == FhirFormat.Xml)
        {
            body = System.Text.Encoding.UTF8.GetBytes(FhirFormats.JsonToXml(System.Text.Encoding.UTF8.GetString(body)));
            contentType = FhirFormats.XmlContentType;
        }

        context.Response.StatusCode = status;
        await WriteBodyAsync(context, contentType, body);
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

    /// <summary>The format negotiated from _format (query) and Accept.</summary>
    public static FhirFormat ClientFormat(HttpRequest request)
        => FormatNegotiation.Negotiate(request.Query["_format"].Select(v => v ?? "").ToList(), request.Headers.Accept.Select(v => v ?? ""));

    /// <summary>
    /// No token (401; in UMA mode with a ticket for what <paramref name="request"/> implies) or a
    /// malformed Authorization header (400).
    /// </summary>
    public async Task NoTokenAsync(HttpContext context, bool malformed, FhirRequest? request = null, IQueryCollection? parameters = null)
    {
        if (malformed)
        {
            SetChallenge(context, "invalid_request", "The Authorization header is not a single well-formed bearer token.");
            await WriteOutcomeAsync(context, 400, "login", "The Authorization header must carry exactly one bearer token.");
            return;
        }

        if (settings.UmaMode && request is not null)
        {
            await UmaChallengeAsync(context, 401, "login", "This request needs a bearer access token (an RPT): ask the authorization server with the ticket.",
                await tickets.FromRequestAsync(context, request, parameters ?? context.Request.Query));
            return;
        }

        SetChallenge(context, null, null);
        await WriteOutcomeAsync(context, 401, "login", "This request needs a bearer access token.");
    }

    /// <summary>Unknown, inactive or expired token: 401 (OAuth) or, as Pauldron does, 403 with a new ticket (UMA).</summary>
    public async Task InvalidTokenAsync(HttpContext context, FhirRequest? request = null, IQueryCollection? parameters = null)
    {
        if (settings.UmaMode && request is not null)
        {
            await UmaChallengeAsync(context, 403, "login", "The access token is invalid, expired or revoked: ask the authorization server with the ticket.",
                await tickets.FromRequestAsync(context, request, parameters ?? context.Request.Query));
            return;
        }

        SetChallenge(context, "invalid_token", "The access token is not active.");
        await WriteOutcomeAsync(context, 401, "login", "The access token is invalid, expired or revoked.");
    }

    /// <summary>
    /// The token does not grant what the request needs: 403 insufficient_scope, or in UMA mode 403
    /// with a ticket for <paramref name="unmet"/> (what the refused resources needed; when nothing
    /// is known, what the request implies).
    /// </summary>
    public async Task InsufficientAsync(HttpContext context, FhirRequest? request = null, IReadOnlyList<RequiredPermission>? unmet = null)
    {
        if (settings.UmaMode && request is not null)
        {
            var permissions = unmet is { Count: > 0 } ? UmaTickets.From(unmet) : await tickets.FromRequestAsync(context, request, context.Request.Query);
            await UmaChallengeAsync(context, 403, "forbidden", "The access token does not grant access to the requested data: ask the authorization server with the ticket.", permissions);
            return;
        }

        SetChallenge(context, "insufficient_scope", "The access token does not grant access to this data.");
        await WriteOutcomeAsync(context, 403, "forbidden", "The access token does not grant access to the requested data.");
    }

    /// <summary>
    /// A search criterion that would make the FHIR server look at resources the token may not all
    /// read (a chain, <c>_has</c>, <c>_filter</c>...): 403 naming the parameter; in UMA mode with
    /// a ticket for reading every resource of the types it reaches.
    /// </summary>
    public async Task CriterionRefusedAsync(HttpContext context, string parameter, IReadOnlyList<string>? types)
    {
        var diagnostics = SearchCriterionDiagnostics(parameter, types);
        if (settings.UmaMode)
        {
            var permissions = (types ?? [null!]).Select(t => PermissionRegistration.Permission(null, t, "read", labels: null)).ToList();
            await UmaChallengeAsync(context, 403, "forbidden", diagnostics, permissions);
            return;
        }

        SetChallenge(context, "insufficient_scope", "A search parameter looks at resources this token may not all read.");
        await WriteOutcomeAsync(context, 403, "forbidden", diagnostics);
    }

    /// <summary>Why a search criterion is refused, naming it (printable, bounded) and the types it reaches.</summary>
    public static string SearchCriterionDiagnostics(string parameter, IReadOnlyList<string>? types)
    {
        var name = parameter.Length <= 100 && parameter.All(c => c is >= ' ' and <= '~') ? parameter : "(a search parameter)";
        var reached = types is null ? "resources of any type" : string.Join(", ", types) + " resources";
        return $"The search parameter '{name}' makes the FHIR server look at {reached}, and this token may not read all of them: it is refused, nothing was forwarded.";
    }

    /// <summary>
    /// Registers <paramref name="permissions"/> and answers with the ticket:
    /// <c>WWW-Authenticate: UMA realm, as_uri, ticket</c> and an OperationOutcome whose extensions
    /// carry the ticket, the server and its authorization endpoint. Registration failed: 403 with
    /// <c>Warning: 199 - "UMA Authorization Server Unreachable"</c>.
    /// </summary>
    private async Task UmaChallengeAsync(HttpContext context, int status, string code, string diagnostics, IReadOnlyList<JsonObject> permissions)
    {
        string? ticket;
        try
        {
            ticket = await tickets.RegisterAsync(permissions);
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e))
        {
            await WriteOutcomeAsync(context, 503, "transient", "Hearth's cluster is unavailable. Try again later.");
            return;
        }

        if (ticket is null)
        {
            context.Response.Headers.Warning = "199 - \"UMA Authorization Server Unreachable\"";
            await WriteOutcomeAsync(context, 403, "transient", "The authorization server is unreachable; no permission ticket could be registered.");
            return;
        }

        var asUri = Sanitize(settings.UmaServerBase);
        context.Response.Headers.WWWAuthenticate = $"UMA realm=\"{_realm}\", as_uri=\"{asUri}\", ticket=\"{ticket}\"";
        await WriteOutcomeAsync(context, status, OperationOutcomes.Create(code, diagnostics, extensions:
        [
            (TicketExtension, "valueString", ticket),
            (AsUriExtension, "valueUri", settings.UmaServerBase),
            (AuthorizationEndpointExtension, "valueUri", settings.UmaServerBase + settings.UmaServerAuthorizationEndpoint),
        ]));
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
            // A UMA challenge without a ticket: only for answers that register nothing (a malformed header).
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
