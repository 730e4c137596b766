using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Hearth.Gateway.Resolution;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// Turns every refusal into its answer: an OperationOutcome (in FHIR XML when the client asked)
/// with the challenge of the mode. OAuth mode follows RFC 6750 (<c>WWW-Authenticate: Bearer</c>,
/// invalid_request, invalid_token, insufficient_scope); UMA mode registers the permissions the
/// request needed and answers with the ticket (<c>WWW-Authenticate: UMA realm, as_uri, ticket</c>),
/// or with <c>Warning: 199 - "UMA Authorization Server Unreachable"</c>.
/// </summary>
internal sealed class RefusalWriter(HearthSettings settings, UmaTickets tickets, Tokens.DpopProofs proofs)
{
    /// <summary>Extensions of the OperationOutcome of a UMA challenge: what Pauldron puts in its body.</summary>
    public const string TicketExtension = "urn:hearth:uma:ticket";
    public const string AsUriExtension = "urn:hearth:uma:as_uri";
    public const string AuthorizationEndpointExtension = "urn:hearth:uma:authorization_endpoint";

    private const string UnreachableWarning = "199 - \"UMA Authorization Server Unreachable\"";

    private readonly AuthorizationServerSettings _server = settings.AuthorizationServer;
    private readonly string _realm = Sanitize(string.IsNullOrEmpty(settings.AuthorizationServer.UmaServerRealm) ? "hearth" : settings.AuthorizationServer.UmaServerRealm);

    /// <param name="request">The classified request (null when it could not be classified): what a UMA ticket is registered for.</param>
    /// <param name="parameters">Its query or search form.</param>
    public Task WriteAsync(HttpContext context, FhirRequest? request, IEnumerable<KeyValuePair<string, StringValues>>? parameters, Refusal refusal)
    {
        var uma = _server.UmaMode && request is not null;
        parameters ??= context.Request.Query;
        return refusal switch
        {
            Refusal.Insufficient insufficient when uma => ChallengeAsync(context, 403, "forbidden",
                "The access token does not grant access to the requested data: ask the authorization server with the ticket.",
                insufficient.Unmet.Count > 0 ? Task.FromResult(UmaTickets.From(insufficient.Unmet)) : tickets.FromRequestAsync(context, request!, parameters)),
            Refusal.Criterion criterion when uma => ChallengeAsync(context, 403, "forbidden", criterion.Diagnostics,
                Task.FromResult<IReadOnlyList<JsonObject>>((criterion.Types ?? [null!]).Select(t => PermissionRegistration.Permission(null, t, FhirAction.Read.Name(), labels: null)).ToList())),
            Refusal.NoToken when uma => ChallengeAsync(context, 401, "login",
                "This request needs a bearer access token (an RPT): ask the authorization server with the ticket.", tickets.FromRequestAsync(context, request!, parameters)),
            Refusal.InvalidToken when uma => ChallengeAsync(context, 403, "login",
                "The access token is invalid, expired or revoked: ask the authorization server with the ticket.", tickets.FromRequestAsync(context, request!, parameters)),
            Refusal.AuthorizationServerUnavailable when _server.UmaMode => UnreachableAsync(context, "The authorization server is unreachable; the token could not be checked."),
            Refusal.InvalidDpopProof or Refusal.DpopNonceRequired or Refusal.SenderConstrained => SenderConstrainedAsync(context, refusal),
            Refusal.InvalidToken when UsedDpop(context) => SenderConstrainedAsync(context, refusal),
            _ => PlainAsync(context, refusal),
        };
    }

    /// <summary>Writes Hearth's own OperationOutcome, in XML when the client asked for XML.</summary>
    public static Task WriteOutcomeAsync(HttpContext context, int status, string code, string diagnostics)
        => WriteOutcomeAsync(context, status, OperationOutcomes.Create(code, diagnostics));

    /// <summary>The format negotiated from _format (query) and Accept.</summary>
    public static FhirFormat ClientFormat(HttpRequest request)
    {
        var format = request.QueryString.HasValue ? request.Query["_format"] : default;
        var accept = request.Headers.Accept;
        return FormatNegotiation.Plain(format.Count, accept.Count, accept.Count == 1 ? accept[0] : null)
            ?? FormatNegotiation.Negotiate(format.Select(v => v ?? "").ToList(), accept.Select(v => v ?? ""));
    }

    private Task PlainAsync(HttpContext context, Refusal refusal)
    {
        switch (refusal)
        {
            case Refusal.Insufficient or Refusal.Criterion:
                SetChallenge(context, "insufficient_scope", refusal is Refusal.Criterion
                    ? "A search parameter looks at resources this token may not all read."
                    : "The access token does not grant access to this data.");
                break;
            case Refusal.NoToken:
                SetChallenge(context, null, null);
                if (!_server.UmaMode)
                {
                    context.Response.Headers.Append(HeaderNames.WWWAuthenticate, $"DPoP algs=\"{proofs.Algorithms}\", {ResourceMetadata(context)}");
                }

                break;
            case Refusal.MalformedAuthorization:
                SetChallenge(context, "invalid_request", "The Authorization header is not a single well-formed bearer token.");
                break;
            case Refusal.InvalidToken:
                SetChallenge(context, "invalid_token", "The access token is not active.");
                break;
            case Refusal.AuthorizationServerUnavailable:
                context.Response.Headers.RetryAfter = "5";
                break;
        }

        return WriteOutcomeAsync(context, refusal.Status, refusal.IssueCode, refusal.Diagnostics);
    }

    /// <summary>
    /// The refusals of sender-constrained tokens, RFC 9449 §7.1 and §9: 401 in every mode (a ticket
    /// mends none of them). Under the DPoP scheme (and for any proof problem) the challenge is
    /// <c>DPoP error=..., algs=...</c> (<c>invalid_dpop_proof</c>, <c>use_dpop_nonce</c> with a
    /// <c>DPoP-Nonce</c> header, <c>invalid_token</c>); a bound token sent as a bearer token gets the
    /// Bearer challenge with <c>invalid_token</c> and a DPoP one beside it.
    /// </summary>
    private Task SenderConstrainedAsync(HttpContext context, Refusal refusal)
    {
        var headers = context.Response.Headers;
        var algs = $"algs=\"{proofs.Algorithms}\", {ResourceMetadata(context)}";
        switch (refusal)
        {
            case Refusal.InvalidDpopProof:
                headers.WWWAuthenticate = $"DPoP error=\"invalid_dpop_proof\", error_description=\"{Sanitize(refusal.Diagnostics)}\", {algs}";
                break;
            case Refusal.DpopNonceRequired nonce:
                headers.WWWAuthenticate = $"DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\", {algs}";
                headers[Tokens.DpopProofs.NonceHeaderName] = nonce.Nonce;
                break;
            default:
                if (UsedDpop(context))
                {
                    headers.WWWAuthenticate = $"DPoP error=\"invalid_token\", error_description=\"{Sanitize(refusal.Diagnostics)}\", {algs}";
                }
                else
                {
                    headers.WWWAuthenticate = new StringValues([
                        $"Bearer realm=\"{_realm}\", error=\"invalid_token\", error_description=\"{Sanitize(refusal.Diagnostics)}\", {ResourceMetadata(context)}",
                        $"DPoP {algs}"]);
                }

                break;
        }

        return WriteOutcomeAsync(context, 401, refusal.IssueCode, refusal.Diagnostics);
    }

    private static bool UsedDpop(HttpContext context)
        => context.Request.Headers.Authorization is { Count: 1 } authorization && authorization[0] is { } value && value.StartsWith("DPoP ", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Registers <paramref name="permissions"/> and answers with the ticket:
    /// <c>WWW-Authenticate: UMA realm, as_uri, ticket</c> and an OperationOutcome whose extensions
    /// carry the ticket, the server and its authorization endpoint. Registration failed: 403 with
    /// the Unreachable warning.
    /// </summary>
    private async Task ChallengeAsync(HttpContext context, int status, string code, string diagnostics, Task<IReadOnlyList<JsonObject>> permissions)
    {
        string? ticket;
        try
        {
            ticket = await tickets.RegisterAsync(await permissions);
        }
        catch (Exception e) when (Failures.IsClusterTransient(e))
        {
            await PlainAsync(context, new Refusal.ClusterUnavailable());
            return;
        }

        if (ticket is null)
        {
            await UnreachableAsync(context, "The authorization server is unreachable; no permission ticket could be registered.");
            return;
        }

        context.Response.Headers.WWWAuthenticate = $"UMA realm=\"{_realm}\", as_uri=\"{Sanitize(_server.UmaServerBase)}\", ticket=\"{ticket}\"";
        await WriteOutcomeAsync(context, status, OperationOutcomes.Create(code, diagnostics, extensions:
        [
            (TicketExtension, "valueString", ticket),
            (AsUriExtension, "valueUri", _server.UmaServerBase),
            (AuthorizationEndpointExtension, "valueUri", _server.UmaServerBase + _server.UmaServerAuthorizationEndpoint),
        ]));
    }

    private static Task UnreachableAsync(HttpContext context, string diagnostics)
    {
        context.Response.Headers.Warning = UnreachableWarning;
        return WriteOutcomeAsync(context, 403, "transient", diagnostics);
    }

    private static async Task WriteOutcomeAsync(HttpContext context, int status, byte[] body)
    {
        var contentType = OperationOutcomes.ContentType;
        if (ClientFormat(context.Request) == FhirFormat.Xml)
        {
            body = System.Text.Encoding.UTF8.GetBytes(FhirFormats.JsonToXml(System.Text.Encoding.UTF8.GetString(body)));
            contentType = FhirFormats.XmlContentType;
        }

        context.Response.StatusCode = status;
        await ReplyWriter.WriteBodyAsync(context, contentType, body);
    }

    private void SetChallenge(HttpContext context, string? error, string? description)
    {
        if (_server.UmaMode)
        {
            // A UMA challenge without a ticket: only for answers that register nothing (a malformed header).
            context.Response.Headers.WWWAuthenticate = $"UMA realm=\"{_realm}\", as_uri=\"{Sanitize(_server.UmaServerBase)}\"";
            return;
        }

        var challenge = $"Bearer realm=\"{_realm}\"";
        if (error is not null)
        {
            challenge += $", error=\"{error}\", error_description=\"{description}\"";
        }

        context.Response.Headers.WWWAuthenticate = challenge + ", " + ResourceMetadata(context);
    }

    /// <summary>
    /// RFC 9728 §5.1: where this resource's metadata is (<c>/.well-known/oauth-protected-resource</c>
    /// under the public base: its authorization servers, DPoP algorithms), so a client that met a
    /// challenge can find how to get a token without knowing the gateway beforehand.
    /// </summary>
    private string ResourceMetadata(HttpContext context)
        => $"resource_metadata=\"{Sanitize(RequestState.PublicBaseOf(context, settings.Gateway).TrimEnd('/') + "/.well-known/oauth-protected-resource")}\"";

    private static string Sanitize(string value) => new(value.Where(c => c >= ' ' && c <= '~' && c is not '"' and not '\\').ToArray());
}
