using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;

namespace Hearth.Gateway.Authorization;

/// <summary>Per-request authorization state, carried from the pre-forward middleware to the response transform.</summary>
internal sealed class HearthRequestFeature(FhirRequest request, PermissionSet permissions, DateTimeOffset? expiresAt, string? tokenHash)
{
    public FhirRequest Request { get; } = request;

    public PermissionSet Permissions { get; } = permissions;

    /// <summary>The token's exp; nothing is served at or after it.</summary>
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    /// <summary>SHA-256 of the token (never the token), null for requests that need none.</summary>
    public string? TokenHash { get; } = tokenHash;

    /// <summary>The format the client gets (Hearth always judges JSON).</summary>
    public Hearth.Authorization.Requests.FhirFormat ResponseFormat { get; set; } = Hearth.Authorization.Requests.FhirFormat.Json;

    /// <summary>For a write: the version of the stored resource that was checked; the write is forwarded with If-Match on it.</summary>
    public string? ExpectedVersion { get; set; }

    /// <summary>When set, the request is forwarded with this method (a FHIRPath Patch goes out as PUT).</summary>
    public HttpMethod? ForwardMethod { get; set; }

    /// <summary>Export status and files: the FHIR server's URL the request goes to instead of its own path.</summary>
    public Uri? UpstreamUri { get; set; }

    /// <summary>_summary / _elements the client asked for: applied after judging.</summary>
    public Formats.Subsetting? Subsetting { get; set; }

    /// <summary>For a batch or transaction: how its entries were decided.</summary>
    public BatchPlan? Batch { get; set; }

    /// <summary>The public base written into links, computed once per request.</summary>
    public string PublicBase { get; set; } = "";

    /// <summary>HEARTH_PUBLIC_BASE, else the request's scheme, Host and path base.</summary>
    public static string PublicBaseOf(HttpContext context, Hearth.Authorization.Configuration.HearthSettings settings)
        => settings.PublicBase ?? $"{context.Request.Scheme}://{context.Request.Host.ToUriComponent()}{context.Request.PathBase.ToUriComponent()}";
}
