using Hearth.Grains.Abstractions;

namespace Hearth.Components.Tests.Grains;

/// <summary>
/// How long each grain keeps what it learnt, counted by the requests the real servers receive:
/// a token's introspection until its exp (capped), never after; an inactive answer briefly; a
/// Patient's identifiers and a security context for HEARTH_PATIENT_CACHE_SECONDS, a missing one
/// for at most 30 s, a failed read not at all.
/// </summary>
public sealed class GrainCacheLifetimeTests : IClassFixture<GrainCluster>
{
    private static readonly TimeSpan Moment = TimeSpan.FromSeconds(1);
    private readonly GrainCluster _cluster;

    public GrainCacheLifetimeTests(GrainCluster cluster)
    {
        // Each test starts at the real time (each uses its own tokens and resources).
        _cluster = cluster;
        _cluster.Clock.Offset = TimeSpan.Zero;
    }

    private async Task<(TokenInfo Info, int Introspections)> IntrospectAsync(string token)
    {
        var before = await _cluster.Auth.IntrospectionsAsync();
        var info = await _cluster.Grains.GetGrain<ITokenGrain>(TokenKey.Hash(token)).IntrospectAsync(new SecretToken(token));
        return (info, await _cluster.Auth.IntrospectionsAsync() - before);
    }

    private async Task<(T Result, int Reads)> CountReadsAsync<T>(string statKey, Func<Task<T>> call)
    {
        var before = await _cluster.Fhir.CountAsync(statKey);
        var result = await call();
        return (result, await _cluster.Fhir.CountAsync(statKey) - before);
    }

    [Fact]
    public async Task Token_CachedUntilItsExp_ThenInactive()
    {
        var token = await _cluster.Auth.TokenAsync("[" + Permissions.For("10001") + "]", expiresInSeconds: 120);
        var (first, calls) = await IntrospectAsync(token);
        Assert.Equal((TokenStatus.Active, 1), (first.Status, calls));

        _cluster.Clock.Offset += TimeSpan.FromSeconds(100); // still before exp
        var (cached, again) = await IntrospectAsync(token);
        Assert.Equal((TokenStatus.Active, 0), (cached.Status, again));

        _cluster.Clock.Offset += TimeSpan.FromSeconds(25); // past exp: asked again, and never served active
        var (expired, after) = await IntrospectAsync(token);
        Assert.Equal((TokenStatus.Inactive, 1), (expired.Status, after));
    }

    [Fact]
    public async Task Token_CachedAtMostTheCap()
    {
        var token = await _cluster.Auth.TokenAsync("[" + Permissions.For("10002") + "]", expiresInSeconds: 7200);
        Assert.Equal(1, (await IntrospectAsync(token)).Introspections);

        _cluster.Clock.Offset += GrainCluster.TokenCacheMax - TimeSpan.FromSeconds(5);
        Assert.Equal(0, (await IntrospectAsync(token)).Introspections);

        _cluster.Clock.Offset += TimeSpan.FromSeconds(10); // past the cap, before exp: asked again, still active
        var (info, calls) = await IntrospectAsync(token);
        Assert.Equal((TokenStatus.Active, 1), (info.Status, calls));
    }

    [Fact]
    public async Task InactiveToken_CachedBriefly()
    {
        var token = "never-issued-" + Guid.NewGuid();
        var (info, calls) = await IntrospectAsync(token);
        Assert.Equal((TokenStatus.Inactive, 1), (info.Status, calls));
        Assert.Equal(0, (await IntrospectAsync(token)).Introspections);

        _cluster.Clock.Offset += GrainCluster.InactiveTokenCache + Moment;
        Assert.Equal(1, (await IntrospectAsync(token)).Introspections);
    }

    [Fact]
    public async Task Token_Evicted_AskedAgain()
    {
        var token = await _cluster.Auth.TokenAsync("[" + Permissions.For("10003") + "]");
        Assert.Equal(1, (await IntrospectAsync(token)).Introspections);
        await _cluster.Grains.GetGrain<ITokenGrain>(TokenKey.Hash(token)).EvictAsync();
        Assert.Equal(1, (await IntrospectAsync(token)).Introspections);
    }

    [Fact]
    public async Task Token_UnderAnotherTokensKey_InactiveWithoutIntrospection()
    {
        var token = await _cluster.Auth.TokenAsync("[" + Permissions.For("10004") + "]");
        var before = await _cluster.Auth.IntrospectionsAsync();
        var info = await _cluster.Grains.GetGrain<ITokenGrain>(TokenKey.Hash("another token")).IntrospectAsync(new SecretToken(token));
        Assert.Equal(TokenStatus.Inactive, info.Status);
        Assert.Equal(before, await _cluster.Auth.IntrospectionsAsync());
    }

    private IPatientGrain Patient(string id) => _cluster.Grains.GetGrain<IPatientGrain>(_cluster.Settings.FhirServer.Base + "/Patient/" + id);

    [Fact]
    public async Task Patient_CachedForThePatientCacheTime()
    {
        var (found, reads) = await CountReadsAsync("GET Patient read", () => Patient("p05").ResolveAsync());
        Assert.Equal((PatientLookupStatus.Found, 1), (found.Status, reads));
        Assert.Contains(new PatientIdentifierValue("urn:official:id", "10005"), found.Identifiers);
        Assert.Equal(found.Identifiers, (await Patient("p05").PeekAsync())!.Identifiers);

        _cluster.Clock.Offset += GrainCluster.PatientCache - TimeSpan.FromSeconds(5);
        Assert.Equal(0, (await CountReadsAsync("GET Patient read", () => Patient("p05").ResolveAsync())).Reads);

        _cluster.Clock.Offset += TimeSpan.FromSeconds(10);
        Assert.Null(await Patient("p05").PeekAsync()); // a peek never serves what is stale
        Assert.Equal(1, (await CountReadsAsync("GET Patient read", () => Patient("p05").ResolveAsync())).Reads);
    }

    [Fact]
    public async Task MissingPatient_RememberedAtMost30Seconds()
    {
        var id = "missing-" + Guid.NewGuid().ToString("N")[..8];
        var (missing, reads) = await CountReadsAsync("GET Patient read", () => Patient(id).ResolveAsync());
        Assert.Equal((PatientLookupStatus.NotFound, 1), (missing.Status, reads));
        Assert.Equal(0, (await CountReadsAsync("GET Patient read", () => Patient(id).ResolveAsync())).Reads);

        _cluster.Clock.Offset += TimeSpan.FromSeconds(31); // less than the patient cache time, more than 30 s
        Assert.Equal(1, (await CountReadsAsync("GET Patient read", () => Patient(id).ResolveAsync())).Reads);
    }

    [Fact]
    public async Task FailedPatientRead_NotRemembered()
    {
        await _cluster.Fhir.FaultAsync("html");
        var (failed, reads) = await CountReadsAsync("GET Patient read", () => Patient("p06").ResolveAsync());
        Assert.Equal((PatientLookupStatus.Unavailable, 1), (failed.Status, reads));

        var (found, again) = await CountReadsAsync("GET Patient read", () => Patient("p06").ResolveAsync());
        Assert.Equal((PatientLookupStatus.Found, 1), (found.Status, again));
    }

    [Fact]
    public async Task Patient_Invalidated_ReadAgain()
    {
        Assert.Equal(PatientLookupStatus.Found, (await Patient("p07").ResolveAsync()).Status);
        await Patient("p07").InvalidateAsync();
        Assert.Equal(1, (await CountReadsAsync("GET Patient read", () => Patient("p07").ResolveAsync())).Reads);
    }

    [Fact]
    public async Task PatientOfAnotherServer_NeverRead()
    {
        var before = await _cluster.Fhir.TotalCountAsync();
        var lookup = await _cluster.Grains.GetGrain<IPatientGrain>("http://elsewhere.example/fhir/Patient/p01").ResolveAsync();
        Assert.Equal(PatientLookupStatus.NotFound, lookup.Status);
        Assert.Equal(before, await _cluster.Fhir.TotalCountAsync());
    }

    [Fact]
    public async Task SecurityContext_CachedForThePatientCacheTime_InvalidatedByAWrite()
    {
        var grain = _cluster.Grains.GetGrain<ISecurityContextGrain>(_cluster.Settings.FhirServer.Base + "/Condition/cond-08");
        var (found, reads) = await CountReadsAsync("GET Condition read", grain.LookupAsync);
        Assert.Equal((PatientLookupStatus.Found, "Condition", 1), (found.Status, found.ResourceType, reads));
        Assert.Equal(["Patient/p08"], found.PatientReferences);
        Assert.Equal(0, (await CountReadsAsync("GET Condition read", grain.LookupAsync)).Reads);

        _cluster.Clock.Offset += GrainCluster.PatientCache + Moment;
        Assert.Equal(1, (await CountReadsAsync("GET Condition read", grain.LookupAsync)).Reads);

        await grain.InvalidateAsync();
        Assert.Equal(1, (await CountReadsAsync("GET Condition read", grain.LookupAsync)).Reads);
    }

    [Fact]
    public async Task Export_StartedOnce_CompletedOnce_Forgotten()
    {
        var grain = _cluster.Grains.GetGrain<IExportGrain>(Guid.NewGuid().ToString("N"));
        await grain.StartAsync(new ExportJob("owner", "http://fhir/status/1"));
        await grain.StartAsync(new ExportJob("intruder", "http://fhir/status/2")); // ignored
        Assert.Equal("owner", (await grain.GetAsync())!.OwnerTokenHash);

        await grain.CompleteAsync([new ExportFile("Patient", ["http://fhir/file/1"], 3)], "{\"first\":true}");
        await grain.CompleteAsync([], "{\"second\":true}"); // the first manifest stands
        var job = (await grain.GetAsync())!;
        Assert.Equal(("{\"first\":true}", 3L), (job.Manifest, job.Files.Single().Count));

        await grain.ForgetAsync();
        Assert.Null(await grain.GetAsync());
    }
}
