using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Responses;

/// <summary>
/// Why Hearth answers a request itself instead of with the FHIR server's answer. Every refusal is
/// a value; one writer in the gateway turns it into the HTTP answer (an OperationOutcome in the
/// client's format, with the RFC 6750 or UMA challenge and headers its kind calls for).
/// </summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="IssueCode">The OperationOutcome issue code (invalid, forbidden, login, not-supported, too-costly, transient, ...).</param>
/// <param name="Diagnostics">A plain sentence; never a token, a stack trace or data the caller may not see.</param>
public abstract record Refusal(int Status, string IssueCode, string Diagnostics)
{
    /// <summary>A plain OperationOutcome: a request Hearth will not forward, a limit, an answer it could not use.</summary>
    public static Refusal Problem(int status, string issueCode, string diagnostics) => new Plain(status, issueCode, diagnostics);

    /// <summary>
    /// The decision this refusal is, in the bounded words metrics and audit use: unauthenticated
    /// (no, malformed or invalid token), deny (the token does not grant it), error (Hearth or what
    /// it asks failed), invalid (a request Hearth will not forward as it came).
    /// </summary>
    public string Decision => this switch
    {
        NoToken or MalformedAuthorization or InvalidToken or SenderConstrained or InvalidDpopProof or DpopNonceRequired => "unauthenticated",
        Insufficient or Criterion => "deny",
        _ when Status >= 500 => "error",
        _ when Status == 403 => "deny",
        _ when Status == 401 => "unauthenticated",
        _ => "invalid",
    };

    /// <summary>The token does not grant what is needed: 403 insufficient_scope; in UMA mode a ticket for <paramref name="unmet"/> (or what the request implies when empty).</summary>
    public static Refusal NotPermitted(IReadOnlyList<RequiredPermission> unmet) => new Insufficient(unmet);

    public sealed record Plain(int Status, string IssueCode, string Diagnostics) : Refusal(Status, IssueCode, Diagnostics);

    public sealed record Insufficient(IReadOnlyList<RequiredPermission> Unmet)
        : Refusal(403, "forbidden", "The access token does not grant access to the requested data.");

    /// <summary>A search criterion that looks at resources the token may not all read (a chain, _has, _filter...); <see cref="Types"/> null: any type.</summary>
    public sealed record Criterion(string Parameter, IReadOnlyList<string>? Types)
        : Refusal(403, "forbidden", CriterionDiagnostics(Parameter, Types));

    /// <summary>No bearer token: 401 (UMA: a ticket for what the request implies).</summary>
    public sealed record NoToken()
        : Refusal(401, "login", "This request needs a bearer access token.");

    /// <summary>The Authorization header is not one well-formed bearer token, or a token came where it may not: 400 invalid_request.</summary>
    public sealed record MalformedAuthorization()
        : Refusal(400, "login", "The Authorization header must carry exactly one bearer token.");

    /// <summary>
    /// Unknown, inactive or expired token: 401 invalid_token (UMA: 403 with a new ticket, as
    /// Pauldron answers). <paramref name="Reason"/>: which check failed, in general words (a locally
    /// validated JWT), never the token.
    /// </summary>
    public sealed record InvalidToken(string? Reason = null)
        : Refusal(401, "login", Reason is null ? "The access token is invalid, expired or revoked." : $"The access token is not valid: {Reason}.");

    /// <summary>
    /// A sender-constrained token presented without what it is bound to (a DPoP-bound token as a
    /// bearer token, a certificate-bound one without that certificate), an unbound token under the
    /// DPoP scheme, or a bearer token where only DPoP is accepted: 401 invalid_token in every mode
    /// (a permission ticket cannot mend it).
    /// </summary>
    public sealed record SenderConstrained(string Reason)
        : Refusal(401, "login", $"The access token is not valid: {Reason}.");

    /// <summary>The DPoP proof (RFC 9449 §4.3) failed a check: 401 <c>invalid_dpop_proof</c>; <paramref name="Reason"/> names the check, never the proof.</summary>
    public sealed record InvalidDpopProof(string Reason)
        : Refusal(401, "login", $"The DPoP proof is not valid: {Reason}.");

    /// <summary>The proof lacks the server's current nonce (RFC 9449 §9): 401 <c>use_dpop_nonce</c> with a <c>DPoP-Nonce</c> header.</summary>
    public sealed record DpopNonceRequired(string Nonce)
        : Refusal(401, "login", "This server requires a DPoP nonce: send a new DPoP proof with the nonce of the DPoP-Nonce header.");

    /// <summary>The authorization server cannot be asked and nothing is cached: 503 (UMA: 403 with the Unreachable warning).</summary>
    public sealed record AuthorizationServerUnavailable()
        : Refusal(503, "transient", "The authorization server is unreachable; the token could not be checked. Try again later.");

    /// <summary>Hearth's own cluster (its grains) does not answer: 503.</summary>
    public sealed record ClusterUnavailable()
        : Refusal(503, "transient", "Hearth's cluster is unavailable. Try again later.");

    /// <summary>Why a search criterion is refused, naming it (printable, bounded) and the types it reaches.</summary>
    public static string CriterionDiagnostics(string parameter, IReadOnlyList<string>? types)
    {
        var name = parameter.Length <= 100 && parameter.All(c => c is >= ' ' and <= '~') ? parameter : "(a search parameter)";
        var reached = types is null ? "resources of any type" : string.Join(", ", types) + " resources";
        return $"The search parameter '{name}' makes the FHIR server look at {reached}, and this token may not read all of them: it is refused, nothing was forwarded.";
    }
}
