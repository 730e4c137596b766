using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Certificate-bound access tokens (RFC 8705): the real OpenID provider binds a token to a client
/// certificate (its mTLS feature); the gateway terminates TLS itself (a real Kestrel TLS listener
/// asking for client certificates) or believes a TLS-terminating proxy's header only from the
/// proxy's address.
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class CertificateBoundTests(HearthEnvironment env) : IDisposable
{
    private const string Scope = "user/Observation.rs";
    private const string Path = "Observation/obs-05-1";

    private readonly string _directory = Directory.CreateTempSubdirectory("hearth-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static X509Certificate2 SelfSigned(string subject, bool server = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string Thumbprint(X509Certificate2 certificate) => Base64UrlEncoder.Encode(SHA256.HashData(certificate.RawData));

    /// <summary>A gateway on https with its own certificate, asking for client certificates; and a client for it presenting <paramref name="client"/> (or none).</summary>
    private async Task<(GatewayInstance Gateway, Func<X509Certificate2?, HttpClient> Client)> StartTlsGatewayAsync()
    {
        var server = SelfSigned("hearth-gateway", server: true);
        var pfx = System.IO.Path.Combine(_directory, "gateway.pfx");
        await File.WriteAllBytesAsync(pfx, server.Export(X509ContentType.Pkcs12, "pfx-password"));
        var gateway = await env.StartGatewayAsync(env.SmartSettings("both",
            ("urls", "https://127.0.0.1:0"), ("HEARTH_TLS_CERTIFICATE", pfx), ("HEARTH_TLS_CERTIFICATE_PASSWORD", "pfx-password"), ("HEARTH_TLS_CLIENT_CERTIFICATES", "allow")));
        HttpClient Client(X509Certificate2? client)
        {
            var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(server.RawData);
            if (client is not null)
            {
                handler.SslOptions.ClientCertificates = [client];
                handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => client;
            }

            return new HttpClient(handler) { BaseAddress = new Uri(gateway.BaseUrl + "/") };
        }

        return (gateway, Client);
    }

    [Fact]
    public async Task OwnTls_BoundToken_ServedWithItsCertificateOnly()
    {
        var (gateway, client) = await StartTlsGatewayAsync();
        await using var _ = gateway;
        Assert.StartsWith("https://", gateway.BaseUrl, StringComparison.Ordinal);
        using var mine = SelfSigned("client-a");
        using var other = SelfSigned("client-b");
        foreach (var opaque in new[] { false, true })
        {
            var token = await env.Oidc.TokenForAsync(Scope, opaque: opaque, certificatePem: mine.ExportCertificatePem());
            if (!opaque)
            {
                var payload = JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[1]))!;
                Assert.Equal(Thumbprint(mine), payload["cnf"]!["x5t#S256"]!.GetValue<string>());
            }

            using (var withMine = client(mine))
            using (var served = await withMine.GetWithTokenAsync(Path, token))
            {
                Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            }

            var before = await env.FhirTotalCountAsync();
            using (var withNone = client(null))
            using (var none = await withNone.GetWithTokenAsync(Path, token))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
                Assert.Contains("client certificate", await none.AssertOutcomeAsync("login"), StringComparison.Ordinal);
                Assert.Contains("invalid_token", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            }

            using (var withOther = client(other))
            using (var stolen = await withOther.GetWithTokenAsync(Path, token))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, stolen.StatusCode);
                Assert.Contains("another client certificate", await stolen.AssertOutcomeAsync("login"), StringComparison.Ordinal);
            }

            Assert.Equal(before, await env.FhirTotalCountAsync());
        }

        // An unbound token needs no certificate: mTLS binds tokens, it does not replace them.
        using var plain = client(null);
        using var unbound = await plain.GetWithTokenAsync(Path, await env.Oidc.TokenForAsync(Scope));
        Assert.Equal(HttpStatusCode.OK, unbound.StatusCode);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("garbage")]
    [InlineData("wrong password")]
    public async Task TlsCertificate_Unreadable_StartUpFailsNamingTheSetting(string kind)
    {
        var path = System.IO.Path.Combine(_directory, "bad.pfx");
        if (kind == "garbage")
        {
            await File.WriteAllTextAsync(path, "not a certificate");
        }
        else if (kind == "wrong password")
        {
            using var certificate = SelfSigned("hearth-gateway", server: true);
            await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pkcs12, "right"));
        }

        var e = await Assert.ThrowsAsync<Hearth.Authorization.Configuration.HearthConfigurationException>(() => env.StartGatewayAsync(
            ("urls", "https://127.0.0.1:0"), ("HEARTH_TLS_CERTIFICATE", path), ("HEARTH_TLS_CERTIFICATE_PASSWORD", "wrong")));
        Assert.Contains("HEARTH_TLS_CERTIFICATE", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal); // the password is never echoed
    }

    [Fact]
    public async Task ProxyHeader_BelievedFromTheProxyOnly()
    {
        using var mine = SelfSigned("client-a");
        using var other = SelfSigned("client-b");
        var token = await env.Oidc.TokenForAsync(Scope, certificatePem: mine.ExportCertificatePem());
        async Task<HttpStatusCode> ReadAsync(GatewayInstance gateway, string? header)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Path);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Client-Cert", header);
            }

            using var response = await gateway.Client.SendAsync(request);
            return response.StatusCode;
        }

        // nginx's $ssl_client_escaped_cert: the PEM, URL-encoded; base64 DER too.
        var escaped = Uri.EscapeDataString(mine.ExportCertificatePem());
        await using (var behindProxy = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_CLIENT_CERT_HEADER", "X-Client-Cert"), ("HEARTH_CLIENT_CERT_PROXIES", "127.0.0.1,::1"))))
        {
            Assert.Equal(HttpStatusCode.OK, await ReadAsync(behindProxy, escaped));
            Assert.Equal(HttpStatusCode.OK, await ReadAsync(behindProxy, Convert.ToBase64String(mine.RawData)));
            Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(behindProxy, Uri.EscapeDataString(other.ExportCertificatePem())));
            Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(behindProxy, null));
            Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(behindProxy, "not a certificate"));
        }

        // The same header from a peer that is not the configured proxy: ignored, the token refused.
        await using var direct = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_CLIENT_CERT_HEADER", "X-Client-Cert"), ("HEARTH_CLIENT_CERT_PROXIES", "192.0.2.10")));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(direct, escaped));

        // And without any proxy configured, a certificate-bound token cannot be checked over plain http: refused.
        await using var plain = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(plain, escaped));
    }
}
