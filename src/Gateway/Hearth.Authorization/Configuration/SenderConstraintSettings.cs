using System.Net;

namespace Hearth.Authorization.Configuration;

/// <summary>How Kestrel treats client certificates on the gateway's TLS listener (HEARTH_TLS_CLIENT_CERTIFICATES).</summary>
public enum ClientCertificates
{
    /// <summary>Not asked for.</summary>
    None,

    /// <summary>Asked for and accepted when sent, self-signed ones too (RFC 8705 §2.2: the token's thumbprint is what binds them).</summary>
    Allow,

    /// <summary>A connection without one is refused.</summary>
    Require,
}

/// <summary>
/// Sender-constrained tokens: DPoP proofs (RFC 9449) and certificate-bound tokens (RFC 8705), and
/// the gateway's own TLS listener that makes the latter possible without a front proxy.
/// </summary>
public sealed class SenderConstraintSettings
{
    /// <summary>What HEARTH_DPOP_ALGORITHMS may name: asymmetric JWS algorithms only (a proof is signed by the key it carries).</summary>
    public static readonly string[] AsymmetricAlgorithms = JwtSettings.AsymmetricAlgorithms;

    /// <summary>HEARTH_DPOP_ALGORITHMS: the <c>alg</c> values a proof may use, advertised as <c>dpop_signing_alg_values_supported</c>.</summary>
    public IReadOnlyList<string> DpopAlgorithms { get; init; } = AsymmetricAlgorithms;

    /// <summary>HEARTH_DPOP_MAX_AGE_SECONDS: how old a proof's <c>iat</c> may be; its <c>jti</c> is remembered this long (plus the skew), cluster-wide.</summary>
    public TimeSpan DpopMaxAge { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>HEARTH_DPOP_CLOCK_SKEW_SECONDS: how far in the future a proof's <c>iat</c> may be.</summary>
    public TimeSpan DpopClockSkew { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>HEARTH_DPOP_NONCE: proofs must carry a nonce the gateway issued (RFC 9449 §9, <c>DPoP-Nonce</c>, <c>use_dpop_nonce</c>).</summary>
    public bool DpopNonce { get; init; }

    /// <summary>HEARTH_DPOP_REQUIRED: only DPoP-bound tokens are accepted; a plain bearer token is refused.</summary>
    public bool DpopRequired { get; init; }

    /// <summary>HEARTH_TLS_CERTIFICATE: the gateway's own certificate (PFX, or PEM with HEARTH_TLS_CERTIFICATE_KEY); the FHIR port then speaks https.</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsCertificateKey { get; init; }

    public string? TlsCertificatePassword { get; init; }

    /// <summary>HEARTH_TLS_CLIENT_CERTIFICATES: none, allow (default with a TLS certificate) or require.</summary>
    public ClientCertificates ClientCertificates { get; init; } = ClientCertificates.None;

    /// <summary>HEARTH_CLIENT_CERT_HEADER: the header in which a TLS-terminating proxy passes the client's certificate (URL-encoded PEM, as nginx's $ssl_client_escaped_cert, or base64 DER).</summary>
    public string? ClientCertificateHeader { get; init; }

    /// <summary>HEARTH_CLIENT_CERT_PROXIES: the addresses that header is believed from; from any other peer it is ignored (and never forwarded).</summary>
    public IReadOnlyList<IPAddress> ClientCertificateProxies { get; init; } = [];

    internal static SenderConstraintSettings Read(SettingsReader r)
    {
        var algorithms = r.List("HEARTH_DPOP_ALGORITHMS", AsymmetricAlgorithms);
        foreach (var bad in algorithms.Where(a => !AsymmetricAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            r.Errors.Add($"HEARTH_DPOP_ALGORITHMS may name only {string.Join(", ", AsymmetricAlgorithms)}: '{bad}' is not one (a DPoP proof is signed with an asymmetric key).");
        }

        if (algorithms.Count == 0)
        {
            r.Errors.Add("HEARTH_DPOP_ALGORITHMS must name at least one algorithm.");
        }

        var certificate = r.Text("HEARTH_TLS_CERTIFICATE");
        var mode = (r.Text("HEARTH_TLS_CLIENT_CERTIFICATES") ?? (certificate is null ? "none" : "allow")).ToLowerInvariant() switch
        {
            "none" => ClientCertificates.None,
            "allow" => ClientCertificates.Allow,
            "require" => ClientCertificates.Require,
            _ => (ClientCertificates?)null,
        };
        if (mode is null)
        {
            r.Errors.Add("HEARTH_TLS_CLIENT_CERTIFICATES must be none, allow or require.");
        }
        else if (mode != ClientCertificates.None && certificate is null)
        {
            r.Errors.Add("HEARTH_TLS_CLIENT_CERTIFICATES needs HEARTH_TLS_CERTIFICATE: client certificates come only over the gateway's own TLS.");
        }

        var header = r.Text("HEARTH_CLIENT_CERT_HEADER");
        var proxies = r.Addresses("HEARTH_CLIENT_CERT_PROXIES");
        if (header is not null && !header.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            r.Errors.Add("HEARTH_CLIENT_CERT_HEADER must be a header name (letters, digits, '-'), for example X-Client-Cert.");
        }

        if ((header is null) != (proxies.Count == 0))
        {
            r.Errors.Add("HEARTH_CLIENT_CERT_HEADER and HEARTH_CLIENT_CERT_PROXIES go together: the header is believed only from the proxies' addresses.");
        }

        return new SenderConstraintSettings
        {
            DpopAlgorithms = algorithms,
            DpopMaxAge = r.Seconds("HEARTH_DPOP_MAX_AGE_SECONDS", TimeSpan.FromSeconds(120), min: 5, max: 3600),
            DpopClockSkew = r.Seconds("HEARTH_DPOP_CLOCK_SKEW_SECONDS", TimeSpan.FromSeconds(10), max: 300),
            DpopNonce = r.Bool("HEARTH_DPOP_NONCE", false),
            DpopRequired = r.Bool("HEARTH_DPOP_REQUIRED", false),
            TlsCertificate = certificate,
            TlsCertificateKey = r.Text("HEARTH_TLS_CERTIFICATE_KEY"),
            TlsCertificatePassword = r.Text("HEARTH_TLS_CERTIFICATE_PASSWORD"),
            ClientCertificates = mode ?? ClientCertificates.None,
            ClientCertificateHeader = header,
            ClientCertificateProxies = proxies,
        };
    }
}
