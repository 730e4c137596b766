using System.Net;
using static Hearth.Cluster.Tests.ClusterFixture;

namespace Hearth.Cluster.Tests;

/// <summary>Redis holds only membership: with Redis gone, running silos and gateways keep serving.</summary>
[Collection(ClusterCollection.Name)]
public class RedisOutageTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task RedisDown_RunningMembersKeepServing_OldAndNewTokens()
    {
        var cached = await cluster.TokenAsync("[" + Permission("10003") + "]");
        using (var warm = await cluster.Gateways[0].GetAsync("Patient/p03", cached))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        cluster.Redis.Kill();

        // For longer than the membership table refresh and I-am-alive periods (2 s and 5 s).
        var until = DateTime.UtcNow.AddSeconds(15);
        var requests = 0;
        while (DateTime.UtcNow < until)
        {
            var fresh = await cluster.TokenAsync("[" + Permission("10003") + "]");
            foreach (var gateway in cluster.Gateways)
            {
                foreach (var token in new[] { cached, fresh })
                {
                    using var response = await gateway.GetAsync("Observation?subject=Patient/p03", token);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    requests++;
                }
            }

            await Task.Delay(500);
        }

        Assert.True(requests > 40);
        Assert.All(cluster.Silos, s => Assert.False(s.HasExited));
        foreach (var gateway in cluster.Gateways)
        {
            using var ready = await gateway.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }
}
