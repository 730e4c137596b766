using System.Net;

namespace Hearth.Authorization.Configuration;

/// <summary>The gateway's HTTP side: where it listens, what it accepts, how it answers.</summary>
public sealed class GatewaySettings
{
    public int? Port { get; init; }

    /// <summary>HEARTH_PUBLIC_BASE: the base written into links; null: taken from the request.</summary>
    public string? PublicBase { get; init; }

    /// <summary>HEARTH_BASE_PATH: the FHIR API is served under it only; "" for the root.</summary>
    public string BasePath { get; init; } = "";

    public IReadOnlyList<IPAddress> TrustedProxies { get; init; } = [];

    /// <summary>Whether an <c>access_token</c> query parameter is accepted (RFC 6750 §2.3; off by default).</summary>
    public bool AllowQueryTokens { get; init; }

    public int MaxRequestBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>The most entries a batch or transaction may have (413 above).</summary>
    public int MaxBatchEntries { get; init; } = 1000;

    /// <summary>
    /// What a search whose entries were all removed answers: an empty searchset (as if nothing had
    /// matched; the default in OAuth mode) or 403 (with a ticket in UMA mode, its default).
    /// </summary>
    public SearchAllRemoved SearchAllRemoved { get; init; } = SearchAllRemoved.Empty;

    public bool AugmentCapabilityStatement { get; init; }

    /// <summary>HEARTH_ADMIN_KEY: the bearer key of the admin endpoints; null: they are off.</summary>
    public string? AdminKey { get; init; }

    /// <summary>HEARTH_FORWARD_SUBJECT_HEADER: the header that carries the validated token's subject to the FHIR server (the client's own is removed).</summary>
    public string? ForwardSubjectHeader { get; init; }

    /// <summary>HEARTH_FORWARD_CLIENT_HEADER: the header that carries the validated token's client id to the FHIR server (the client's own is removed).</summary>
    public string? ForwardClientHeader { get; init; }

    /// <summary>HEARTH_AUDIT_LOG_FILE: where the audit trail's JSON lines go; null: standard output.</summary>
    public string? AuditLogFile { get; init; }

    /// <summary>HEARTH_AUDIT_FHIR_BASE: a FHIR server that receives the audit trail as AuditEvents (IHE BALP), in batches; null: none.</summary>
    public string? AuditFhirBase { get; init; }

    /// <summary>HEARTH_AUDIT_BUFFER: audit records held for the writer; beyond, records are dropped and counted (requests never wait).</summary>
    public int AuditBuffer { get; init; } = 10_000;

    internal static GatewaySettings Read(SettingsReader r, bool umaMode)
    {
        var adminKey = r.Text("HEARTH_ADMIN_KEY");
        if (adminKey is { Length: < 16 })
        {
            r.Errors.Add("HEARTH_ADMIN_KEY must be at least 16 characters long (or unset, which disables the admin endpoints).");
        }

        var allRemoved = r.Text("HEARTH_SEARCH_ALL_REMOVED") switch
        {
            null => umaMode ? SearchAllRemoved.Forbidden : SearchAllRemoved.Empty,
            "empty" => SearchAllRemoved.Empty,
            "forbidden" => SearchAllRemoved.Forbidden,
            _ => (SearchAllRemoved?)null,
        };
        if (allRemoved is null)
        {
            r.Errors.Add("HEARTH_SEARCH_ALL_REMOVED must be empty or forbidden.");
        }

        var publicBase = r.Url("HEARTH_PUBLIC_BASE", required: false, "https://fhir.example.org/r4");
        return new GatewaySettings
        {
            Port = r.Text("PORT") is null ? null : r.Int("PORT", 0, 1, 65535),
            PublicBase = publicBase.Length == 0 ? null : publicBase,
            BasePath = r.Text("HEARTH_BASE_PATH") is null ? "" : r.Path("HEARTH_BASE_PATH", "/fhir").TrimEnd('/'),
            TrustedProxies = r.Addresses("HEARTH_TRUSTED_PROXIES"),
            AllowQueryTokens = r.Bool("HEARTH_ALLOW_QUERY_TOKENS", false),
            MaxRequestBytes = r.Int("HEARTH_MAX_REQUEST_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
            MaxBatchEntries = r.Int("HEARTH_MAX_BATCH_ENTRIES", 1000, 1, 100_000),
            SearchAllRemoved = allRemoved ?? SearchAllRemoved.Empty,
            AugmentCapabilityStatement = r.Bool("AUGMENT_CAPABILITY_STATEMENT", false),
            AdminKey = adminKey,
            ForwardSubjectHeader = HeaderName(r, "HEARTH_FORWARD_SUBJECT_HEADER"),
            ForwardClientHeader = HeaderName(r, "HEARTH_FORWARD_CLIENT_HEADER"),
            AuditLogFile = r.Text("HEARTH_AUDIT_LOG_FILE"),
            AuditFhirBase = r.Url("HEARTH_AUDIT_FHIR_BASE", required: false, "https://audit.example.org/fhir") is { Length: > 0 } audit ? audit.TrimEnd('/') : null,
            AuditBuffer = r.Int("HEARTH_AUDIT_BUFFER", 10_000, 1, 1_000_000),
        };
    }

    /// <summary>A header name Hearth may set: an HTTP token, and not one Hearth or HTTP itself owns.</summary>
    private static string? HeaderName(SettingsReader r, string setting)
    {
        var name = r.Text(setting);
        if (name is null)
        {
            return null;
        }

        var reserved = new[] { "Authorization", "Cookie", "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Accept", "If-Match", "Prefer" };
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)) || reserved.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            r.Errors.Add($"{setting} must be a header name (letters, digits, '-') that HTTP and Hearth do not use themselves, for example X-Forwarded-User.");
            return null;
        }

        return name;
    }
}

/// <summary>What a search whose entries were all removed answers (HEARTH_SEARCH_ALL_REMOVED).</summary>
public enum SearchAllRemoved
{
    /// <summary>200 with an empty searchset, as if nothing had matched.</summary>
    Empty,

    /// <summary>403 (UMA mode: with a ticket for what the removed entries needed); discloses that something matched.</summary>
    Forbidden,
}
