using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hearth.Authorization.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Hearth.Gateway.Extensions;

/// <summary>
/// The gateway's own TLS (HEARTH_TLS_CERTIFICATE): its certificate, and whether Kestrel asks for a
/// client certificate (HEARTH_TLS_CLIENT_CERTIFICATES). Any client certificate is taken, self-signed
/// ones too: RFC 8705 binds a token to the certificate's thumbprint, which is what Hearth checks;
/// a certificate alone grants nothing.
/// </summary>
internal static class GatewayTls
{
    /// <summary>The certificate: a PFX (with HEARTH_TLS_CERTIFICATE_PASSWORD), or a PEM with its key in HEARTH_TLS_CERTIFICATE_KEY.</summary>
    public static X509Certificate2 Load(SenderConstraintSettings settings)
    {
        var path = settings.TlsCertificate!;
        try
        {
            if (settings.TlsCertificateKey is { } key)
            {
                using var pem = X509Certificate2.CreateFromPemFile(path, key);
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null); // a PEM key is ephemeral on Linux; a PKCS#12 copy is not
            }

            return X509CertificateLoader.LoadPkcs12FromFile(path, settings.TlsCertificatePassword);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new HearthConfigurationException([$"HEARTH_TLS_CERTIFICATE: '{path}' cannot be read as a certificate with its private key ({e.GetType().Name}): give a PFX (and HEARTH_TLS_CERTIFICATE_PASSWORD) or a PEM certificate with HEARTH_TLS_CERTIFICATE_KEY."]);
        }
    }

    public static void Configure(HttpsConnectionAdapterOptions https, X509Certificate2 certificate, ClientCertificates clientCertificates)
    {
        https.ServerCertificate = certificate;
        https.ClientCertificateMode = clientCertificates switch
        {
            ClientCertificates.Require => ClientCertificateMode.RequireCertificate,
            ClientCertificates.Allow => ClientCertificateMode.AllowCertificate,
            _ => ClientCertificateMode.NoCertificate,
        };
        if (clientCertificates != ClientCertificates.None)
        {
            https.AllowAnyClientCertificate();
        }
    }
}
