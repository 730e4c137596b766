using System.Net;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Gateway.Caching;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The gateway's local caches (<see cref="GatewayCaches"/>): a warm request makes no grain call;
/// nothing is served past a token's exp; a change announced by the cluster is applied at once; a
/// gateway that may have missed announcements empties its caches.
/// </summary>
[Collection(HearthCollection.Name)]
public class LocalCacheTests(HearthEnvironment env)
{
    [Theory]
    [InlineData("Observation/obs-03-1")]
    [InlineData("Patient/p04")]
    [InlineData("Observation?_count=45")]
    [InlineData("Observation?subject=Patient/p05&_count=10")]
    public async Task WarmRequests_MakeNoGrainCall(string path)
    {
        await using var gateway = await env.StartGatewayAsync();
        await LiveAsync(gateway);
        var calls = gateway.Services.GetRequiredService<GrainCalls>();
        var token = await env.TokenAsync("[" + Permission("*") + "]");

        using (var first = await gateway.Client.GetWithTokenAsync(path, token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var cold = calls.DuringRequests;
        Assert.True(cold >= 1, $"the cold request made {cold} grain calls (the token, and the patients it names, expected)");
        for (var i = 0; i < 20; i++)
        {
            using var warm = await gateway.Client.GetWithTokenAsync(path, token);
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        Assert.Equal(cold, calls.DuringRequests);
    }

    /// <summary>Cluster mode (a real Redis and silo process; this gateway an Orleans client): a warm request makes no grain call either.</summary>
    [Fact]
    public async Task ClusterMode_WarmRequests_MakeNoGrainCall()
    {
        var (redis, redisPort) = await RedisServer.StartAsync();
        await using var _ = redis;
        var clusterId = "grain-calls-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = new (string Key, string? Value)[] { ("HEARTH_REDIS", $"127.0.0.1:{redisPort}"), ("HEARTH_CLUSTER_ID", clusterId), ("HEARTH_ADVERTISED_ADDRESS", "127.0.0.1") };
        var siloSettings = env.Settings([.. cluster, ("HEARTH_SILO_PORT", TestPorts.Free().ToString()), ("HEARTH_SILO_GATEWAY_PORT", TestPorts.Free().ToString())]);
        await using var silo = ChildProcess.StartHearth("silo", "src/Silo/Hearth.Silo", siloSettings);
        await silo.WaitForLineAsync(l => l.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(90));

        await using var gateway = await env.StartGatewayAsync(cluster);
        await LiveAsync(gateway);
        var calls = gateway.Services.GetRequiredService<GrainCalls>();
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using (var first = await gateway.Client.GetWithTokenAsync("Observation?_count=30", token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var cold = calls.DuringRequests;
        Assert.True(cold >= 2, $"the cold search made {cold} grain calls");
        for (var i = 0; i < 20; i++)
        {
            using var warm = await gateway.Client.GetWithTokenAsync(i % 2 == 0 ? "Observation?_count=30" : "Observation/obs-03-1", token);
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        Assert.Equal(cold, calls.DuringRequests);
    }

    [Fact]
    public async Task LocalGrants_NeverServedPastTheTokensExp()
    {
        await using var gateway = await env.StartGatewayAsync();
        await LiveAsync(gateway);
        var token = await env.TokenAsync("[" + Permission("10003") + "]", expiresInSeconds: 120);
        using (var ok = await gateway.Client.GetWithTokenAsync("Patient/p03", token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        gateway.Clock.Offset = TimeSpan.FromSeconds(121);
        await gateway.Services.GetRequiredService<CacheSubscription>().RenewAsync(); // live on the shifted clock
        using var expired = await gateway.Client.GetWithTokenAsync("Patient/p03", token);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task PatientWrittenThroughTheGateway_LocalCacheForgetsIt_BeforeTheWriteAnswers()
    {
        await using var gateway = await env.StartGatewayAsync();
        await LiveAsync(gateway);
        var patientId = await env.Fhir.PostAsync("Patient", """{"resourceType":"Patient","identifier":[{"system":"urn:official:id","value":"cache-before"}]}""");
        var observationId = await env.Fhir.PostAsync("Observation",
            $$$"""{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/{{{patientId}}}"}}""");
        var reader = await env.TokenAsync("[" + Permission("cache-before") + "]");
        var writer = await env.TokenAsync("[" + Permission("*", "Patient", "update") + "," + Permission("*", "Patient") + "]");
        using (var before = await gateway.Client.GetWithTokenAsync("Observation/" + observationId, reader))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        Assert.True(gateway.Services.GetRequiredService<GatewayCaches>().Patients.TryGet("Patient/" + patientId, out _));
        using (var update = await gateway.Client.SendAsync("PUT", "Patient/" + patientId, writer,
            $$"""{"resourceType":"Patient","id":"{{patientId}}","identifier":[{"system":"urn:official:id","value":"cache-after"}]}"""))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        using var after = await gateway.Client.GetWithTokenAsync("Observation/" + observationId, reader);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
    }

    [Fact]
    public async Task AnnouncementsMissed_NewActivationOfTheEventsGrain_LocalCachesEmptied()
    {
        await using var gateway = await env.StartGatewayAsync();
        await LiveAsync(gateway);
        var caches = gateway.Services.GetRequiredService<GatewayCaches>();
        var calls = gateway.Services.GetRequiredService<GrainCalls>();
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        using (var warmUp = await gateway.Client.GetWithTokenAsync("Observation/obs-06-1", token))
        {
            Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        }

        Assert.True(caches.Patients.Count > 0 && caches.Grants.Count > 0);

        // Every idle grain deactivated: the events grain's next activation knows no subscriber.
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.False(await gateway.Services.GetRequiredService<CacheSubscription>().RenewAsync());
        Assert.Equal(0, caches.Patients.Count + caches.Grants.Count);

        var before = calls.DuringRequests;
        using var again = await gateway.Client.GetWithTokenAsync("Observation/obs-06-1", token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True(calls.DuringRequests > before, "the emptied caches were asked again through the grains");
    }

    [Fact]
    public void AValueReadBeforeAnAnnouncedChange_IsNotKept()
    {
        var time = new ShiftableTimeProvider();
        var values = new Dictionary<string, string?> { ["FHIR_SERVER_BASE"] = "http://fhir.test/r4", ["UMA_MODE"] = "false", ["UMA_SERVER_BASE"] = "http://auth.test", ["UMA_SERVER_PROTECTION_API_KEY"] = "k" };
        using var caches = new GatewayCaches(HearthSettings.Load(k => values.GetValueOrDefault(k)), time);
        caches.LiveUntil(time.GetUtcNow().AddMinutes(1));
        var principal = new Principal(PermissionSet.Empty, time.GetUtcNow().AddMinutes(5), "h");

        var generation = caches.Generation;
        caches.Apply(new CacheChange(CacheChangeKind.PatientChanged, "http://fhir.test/r4/Patient/a"));
        caches.Grants.Set("h", principal, time.GetUtcNow().AddMinutes(5), generation);
        Assert.False(caches.Grants.TryGet("h", out _)); // read before the change: not kept

        caches.Grants.Set("h", principal, time.GetUtcNow().AddMinutes(5), caches.Generation);
        Assert.True(caches.Grants.TryGet("h", out _));
        caches.Apply(new CacheChange(CacheChangeKind.TokenEvicted, "h"));
        Assert.False(caches.Grants.TryGet("h", out _));

        caches.Patients.Set("Patient/a", null, time.GetUtcNow().AddMinutes(5), caches.Generation);
        Assert.True(caches.Patients.TryGet("Patient/a", out _));
        caches.Apply(new CacheChange(CacheChangeKind.PatientChanged, "http://fhir.test/r4/Patient/a")); // the grain's key: absolute
        Assert.False(caches.Patients.TryGet("Patient/a", out _));

        caches.Grants.Set("h", principal, time.GetUtcNow().AddMinutes(5), caches.Generation);
        time.Offset = TimeSpan.FromMinutes(2); // the subscription is not renewed: nothing served
        Assert.False(caches.Grants.TryGet("h", out _));
    }

    private static async Task LiveAsync(GatewayInstance gateway)
    {
        var caches = gateway.Services.GetRequiredService<GatewayCaches>();
        for (var i = 0; i < 100 && !caches.Live; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(caches.Live, "the gateway subscribed to the cluster's cache announcements");
    }
}
