using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hearth.Authorization.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The client certificate a request came with, as RFC 8705 §3.1 binds tokens to it: the
/// base64url SHA-256 of its DER (<c>x5t#S256</c>). From the gateway's own TLS (Kestrel, with
/// HEARTH_TLS_CLIENT_CERTIFICATES), or, when the connection's peer is one of
/// HEARTH_CLIENT_CERT_PROXIES, from the header HEARTH_CLIENT_CERT_HEADER (URL-encoded PEM, as
/// nginx's <c>$ssl_client_escaped_cert</c>, or base64 DER) read by <see cref="Middleware"/>. That
/// header is removed from every request before anything else sees it, so it is believed from
/// those peers only and never reaches the FHIR server.
/// </summary>
internal sealed class ClientCertificateThumbprint
{
    private ClientCertificateThumbprint(string? value) => Value = value;

    /// <summary>The thumbprint; null when no certificate came (or a proxy's header was not a certificate).</summary>
    public string? Value { get; }

    /// <summary>The thumbprint of the request's client certificate, or null.</summary>
    public static string? Of(HttpContext context)
        => context.Features.Get<ClientCertificateThumbprint>() is { } proxied
            ? proxied.Value
            : context.Connection.ClientCertificate is { } certificate ? Thumbprint(certificate.RawData) : null;

    public static string Thumbprint(byte[] der) => Base64UrlEncoder.Encode(SHA256.HashData(der));

    /// <summary>Reads (and always removes) the proxy's header; runs first, before the forwarded headers change the peer's address.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(SenderConstraintSettings settings)
    {
        var header = settings.ClientCertificateHeader!;
        var proxies = settings.ClientCertificateProxies;
        return (context, next) =>
        {
            var values = context.Request.Headers[header];
            context.Request.Headers.Remove(header);
            if (context.Connection.RemoteIpAddress is { } peer && proxies.Any(p => p.Equals(peer) || (peer.IsIPv4MappedToIPv6 && p.Equals(peer.MapToIPv4()))))
            {
                // From a trusted proxy: its header says what the client presented (nothing, when it is absent).
                context.Features.Set(new ClientCertificateThumbprint(values.Count == 1 ? FromHeader(values[0]!) : null));
            }

            return next(context);
        };
    }

    /// <summary>The thumbprint of the certificate in a proxy's header value; null when it is none.</summary>
    internal static string? FromHeader(string value)
    {
        if (value.Length is 0 or > 32 * 1024)
        {
            return null;
        }

        try
        {
            var text = value.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(value) : value;
            var der = text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text).RawData
                : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text)).RawData;
            return Thumbprint(der);
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
