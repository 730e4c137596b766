using System.Net;
using System.Text.Json.Nodes;

namespace Hearth.Cluster.Tests;

/// <summary>
/// Sender-constrained tokens across the cluster: a DPoP proof is good once whichever gateway it
/// reaches (the replay cache lives in the silos), a server nonce one gateway issued is taken by the
/// other, and an admin key refresh on one gateway untrusts a withdrawn key on both.
/// </summary>
public partial class ClusterTests
{
    private const string ObservationPath = "Observation/obs-05-1";

    private static async Task<HttpResponseMessage> DpopGetAsync(ClusterFixture.Gateway gateway, string token, string proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ObservationPath);
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        request.Headers.TryAddWithoutValidation("DPoP", proof);
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Dpop_ProofReplayedOnTheOtherGateway_Refused_NonceOfOneTakenByTheOther()
    {
        var key = new DpopKey();
        var token = await cluster.Oidc.TokenForAsync("user/Observation.rs", dpop: key);
        var (first, second) = (cluster.Gateways[0], cluster.Gateways[1]);
        string Proof(ClusterFixture.Gateway gateway, string? nonce) => key.Proof("GET", gateway.BaseUrl + "/" + ObservationPath, token, new ProofOptions { Nonce = nonce });

        // No nonce yet: the first gateway says which one to use.
        string nonce;
        using (var challenge = await DpopGetAsync(first, token, Proof(first, null)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
            Assert.Contains("use_dpop_nonce", challenge.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            nonce = challenge.Headers.GetValues("DPoP-Nonce").Single();
        }

        // That nonce works on the other gateway.
        using (var other = await DpopGetAsync(second, token, Proof(second, nonce)))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        // A proof accepted by one gateway, replayed on the other: the same key and jti (its htu the other gateway's, which has its own address here).
        var jti = Guid.NewGuid().ToString("N");
        var shared = key.Proof("GET", first.BaseUrl + "/" + ObservationPath, token, new ProofOptions { Nonce = nonce, Jti = jti });
        using (var once = await DpopGetAsync(first, token, shared))
        {
            Assert.Equal(HttpStatusCode.OK, once.StatusCode);
        }

        var replayed = key.Proof("GET", second.BaseUrl + "/" + ObservationPath, token, new ProofOptions { Nonce = nonce, Jti = jti });
        using (var replay = await DpopGetAsync(second, token, replayed))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
            Assert.Contains("invalid_dpop_proof", replay.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        // The same token as a bearer token: refused on both.
        foreach (var gateway in cluster.Gateways)
        {
            using var bearer = await gateway.GetAsync(ObservationPath, token);
            Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
        }
    }

    [Fact]
    public async Task AdminKeyRefresh_OnOneGateway_WithdrawnKeyUntrustedOnBoth()
    {
        var token = await cluster.Oidc.TokenForAsync("user/Observation.rs");
        foreach (var gateway in cluster.Gateways)
        {
            using var before = await gateway.GetAsync(ObservationPath, token);
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var kid = JsonNode.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(token.Split('.')[0]))!["kid"]!.GetValue<string>();
        await cluster.Oidc.RotateAsync();
        await cluster.Oidc.WithdrawAsync(kid);
        using (var refreshed = await cluster.Gateways[0].AdminAsync("keys/refresh"))
        {
            Assert.Equal(HttpStatusCode.NoContent, refreshed.StatusCode);
        }

        foreach (var gateway in cluster.Gateways)
        {
            using var refused = await gateway.GetAsync(ObservationPath, token); // validated before, by a key no longer published
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var fresh = await cluster.Oidc.TokenForAsync("user/Observation.rs");
        foreach (var gateway in cluster.Gateways)
        {
            using var served = await gateway.GetAsync(ObservationPath, fresh);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
    }
}
