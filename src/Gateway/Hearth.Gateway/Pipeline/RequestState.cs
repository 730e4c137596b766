using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;

namespace Hearth.Gateway.Pipeline;

/// <summary>Who asks: the token's permissions, its exp and hash (never the token); anonymous for requests that need none.</summary>
internal sealed record Principal(PermissionSet Permissions, DateTimeOffset? ExpiresAt, string? TokenHash)
{
    /// <summary>The token's subject (<c>sub</c>), validated.</summary>
    public string? Subject { get; init; }

    /// <summary>The client the token was issued to.</summary>
    public string? ClientId { get; init; }

    /// <summary>The SMART launch context's patient (<c>patient</c> claim), when the token has one.</summary>
    public string? Patient { get; init; }

    /// <summary>The purposes of use the token states (v3-ActReason codes), recorded in every audit record.</summary>
    public IReadOnlyList<string> PurposeOfUse { get; init; } = [];

    /// <summary>The user's FHIR resource (<c>fhirUser</c> claim).</summary>
    public string? FhirUser { get; init; }

    /// <summary>What the token is bound to (<c>cnf</c>): checked on every request, however the token was known.</summary>
    public Hearth.Authorization.Tokens.TokenBinding Binding { get; init; } = Hearth.Authorization.Tokens.TokenBinding.None;

    public static Principal Anonymous { get; } = new(PermissionSet.Empty, null, null);
}

/// <summary>What the request asks besides its path: its parameters (the query, or a search's form), the subsetting it wants applied after judging, the format of the answer.</summary>
internal sealed record RequestShape(IQueryCollection Parameters, Subsetting? Subsetting, FhirFormat ResponseFormat);

/// <summary>One request's authorization state, from the middleware to YARP's transforms (an HttpContext feature).</summary>
internal sealed class RequestState(FhirRequest request, RequestShape shape, Principal principal, string publicBase)
{
    private static readonly AsyncLocal<Hearth.Authorization.Policies.PolicyLedger?> CurrentLedger = new();

    /// <summary>The ledger of the request being decided on this flow (see <see cref="Ledger"/>), for the resolutions its judgements make.</summary>
    public static Hearth.Authorization.Policies.PolicyLedger? CurrentPolicyLedger => CurrentLedger.Value;

    /// <summary>What the policy chain found while this request was judged (the Consent policy only); set as the flow's current ledger.</summary>
    public Hearth.Authorization.Policies.PolicyLedger? Ledger { get; private set; }

    /// <summary>Starts this request's ledger and makes it the flow's current one.</summary>
    public void StartLedger()
    {
        Ledger = new Hearth.Authorization.Policies.PolicyLedger();
        CurrentLedger.Value = Ledger;
    }

    /// <summary>Makes <paramref name="ledger"/> the current one for the rest of the calling async method's flow (one part of a request judged on its own).</summary>
    public static void JudgeThisFlowWith(Hearth.Authorization.Policies.PolicyLedger ledger) => CurrentLedger.Value = ledger;

    public FhirRequest Request { get; } = request;

    public RequestShape Shape { get; } = shape;

    /// <summary>Who asks (anonymous for requests that need no token, and until the token is authenticated).</summary>
    public Principal Principal { get; set; } = principal;

    public PermissionSet Permissions => Principal.Permissions;

    /// <summary>The token's exp; nothing is served at or after it.</summary>
    public DateTimeOffset? ExpiresAt => Principal.ExpiresAt;

    /// <summary>SHA-256 of the token (never the token), null for requests that need none.</summary>
    public string? TokenHash => Principal.TokenHash;

    public FhirFormat ResponseFormat => Shape.ResponseFormat;

    /// <summary>The public base written into links.</summary>
    public string PublicBase { get; } = publicBase;

    /// <summary>What happens around the forwarding, once an authorizer decided to forward.</summary>
    public IForwarding? Forwarding { get; set; }

    /// <summary>The refusal the client got, when it got one (set by <see cref="ReplyWriter"/>): what metrics and audit call the decision.</summary>
    public Refusal? Refused { get; set; }

    /// <summary>When the request left for the FHIR server (<see cref="System.Diagnostics.Stopwatch"/> ticks); 0 before.</summary>
    public long ForwardedAt { get; set; }

    /// <summary>The answer was cut off after it had started (the client went away, or writing failed): recorded as an error.</summary>
    public bool Cut { get; set; }

    /// <summary>The audit trail holds a place for this request's record (<see cref="Audit.AuditTrail.TryReserve"/>).</summary>
    public bool AuditReserved { get; set; }

    /// <summary>Entries removed from the answer (redaction).</summary>
    public int Removed { get; set; }

    /// <summary>Entries (or the resource) served from a judged answer; -1 when no answer was judged.</summary>
    public int Kept { get; set; } = -1;

    /// <summary>The facts of the judged answer's resources (their patients are what the audit trail names); only their strings are read once the answer is written.</summary>
    public IReadOnlyList<Hearth.Authorization.Fhir.ResourceFacts>? Judged { get; set; }

    /// <summary>HEARTH_PUBLIC_BASE, else the request's scheme, Host and path base.</summary>
    public static string PublicBaseOf(HttpContext context, GatewaySettings settings)
    {
        if (settings.PublicBase is { } configured)
        {
            return configured;
        }

        // Clients mostly come by one name: the base made for the last request is used again when it is the same.
        var request = context.Request;
        var host = request.Host.Value ?? "";
        var pathBase = request.PathBase.Value ?? "";
        var last = _lastBase;
        if (last is not null && last.Scheme == request.Scheme && last.Host == host && last.PathBase == pathBase)
        {
            return last.Value;
        }

        var value = $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
        _lastBase = new SeenBase(request.Scheme, host, pathBase, value);
        return value;
    }

    private static SeenBase? _lastBase;

    private sealed record SeenBase(string Scheme, string Host, string PathBase, string Value);
}
