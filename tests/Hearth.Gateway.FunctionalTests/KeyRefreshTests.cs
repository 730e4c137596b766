using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A signing key the issuer withdraws (a compromised key): without an operator's action the gateway
/// trusts it until its next scheduled fetch; the admin key refresh makes it untrusted at once, for
/// tokens already validated with it too. A provider of the test's own (its keys change).
/// </summary>
[Collection(HearthCollection.Name)]
public sealed class KeyRefreshTests(HearthEnvironment env)
{
    private const string Scope = "user/Observation.rs";
    private const string Path = "Observation/obs-05-1";
    private const string AdminKey = "key-refresh-admin-key-0123456789";
    private const string Kid = "withdrawn-key";

    [Fact]
    public async Task AdminKeyRefresh_WithdrawnKeyUntrustedAtOnce_NewKeyTrusted()
    {
        using var withdrawn = RSA.Create(2048);
        await using var provider = await NodeServer.StartAsync("deploy/oidc-provider/server.mjs", new Dictionary<string, string> { ["DEV_OIDC_JWKS"] = TestKeys.Jwks(withdrawn, Kid, includePrivate: true) });
        var oidc = new OidcProviderClient(new HttpClient(), provider.BaseUrl);
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt",
            ("HEARTH_JWT_ISSUER", provider.BaseUrl), ("HEARTH_ADMIN_KEY", AdminKey), ("HEARTH_JWKS_REFRESH_SECONDS", "1")));
        var signing = new SigningCredentials(new RsaSecurityKey(withdrawn) { KeyId = Kid }, SecurityAlgorithms.RsaSha256);
        var before = TestKeys.Craft(TestKeys.Claims(provider.BaseUrl, Scope), signing);
        using (var first = await gateway.Client.GetWithTokenAsync(Path, before))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await oidc.RotateAsync();
        await oidc.WithdrawAsync(Kid);
        var minted = TestKeys.Craft(TestKeys.Claims(provider.BaseUrl, Scope), signing); // a thief's token, made after the withdrawal
        using (var stillTrusted = await gateway.Client.GetWithTokenAsync(Path, minted))
        {
            Assert.Equal(HttpStatusCode.OK, stillTrusted.StatusCode); // what the issue found: trusted until the next scheduled fetch
        }

        var fetches = await oidc.CountAsync("jwks");
        using (var refresh = await AdminAsync(gateway, "keys/refresh", AdminKey))
        {
            Assert.Equal(HttpStatusCode.NoContent, refresh.StatusCode);
        }

        Assert.True(await oidc.CountAsync("jwks") > fetches, "the refresh fetched the keys");
        foreach (var token in new[] { before, minted, TestKeys.Craft(TestKeys.Claims(provider.BaseUrl, Scope), signing) })
        {
            using var refused = await gateway.Client.GetWithTokenAsync(Path, token);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var issued = await gateway.Client.GetWithTokenAsync(Path, await oidc.TokenForAsync(Scope)); // signed by the new key
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);

        // The admin key is required; a gateway without JWT validation has no keys to refresh.
        using (var anonymous = await AdminAsync(gateway, "keys/refresh", "not-the-admin-key-at-all"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        await using var introspecting = await env.StartGatewayAsync(("HEARTH_ADMIN_KEY", AdminKey));
        using var none = await AdminAsync(introspecting, "keys/refresh", AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task AdminKeyRefresh_IssuerDown_502_TokensRefusedNotServedOnOldKeys()
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt", ("HEARTH_ADMIN_KEY", AdminKey)));
        var token = TestKeys.Craft(TestKeys.Claims(env.Oidc.Issuer, Scope));
        using (var first = await gateway.Client.GetWithTokenAsync(Path, token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await env.Oidc.DownAsync(true);
        try
        {
            using (var refresh = await AdminAsync(gateway, "keys/refresh", AdminKey))
            {
                Assert.Equal(HttpStatusCode.BadGateway, refresh.StatusCode);
            }

            using var refused = await gateway.Client.GetWithTokenAsync(Path, token);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode); // fail closed: the forgotten keys are not used
        }
        finally
        {
            await env.Oidc.DownAsync(false);
        }

        using var again = await gateway.Client.GetWithTokenAsync(Path, token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static async Task<HttpResponseMessage> AdminAsync(GatewayInstance gateway, string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "_hearth/admin/" + path) { Content = new FormUrlEncodedContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await gateway.Client.SendAsync(request);
    }
}
