using Hearth.Authorization.Configuration;
using Hearth.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Hearth.Components.Tests.Grains;

/// <summary>
/// Hearth's grains on one silo of Orleans' in-process test cluster, with the real development FHIR
/// and authorization servers on loopback, and a clock the tests move forward.
/// </summary>
public sealed class GrainCluster : IAsyncLifetime
{
    public const string ApiKey = "grain-test-key";

    /// <summary>Cache lifetimes short enough to step over, distinct enough to tell apart.</summary>
    public static readonly TimeSpan TokenCacheMax = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan InactiveTokenCache = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan PatientCache = TimeSpan.FromMinutes(2);

    private readonly HttpClient _plain = new() { Timeout = TimeSpan.FromSeconds(30) };
    private NodeServer? _fhir;
    private NodeServer? _auth;
    private InProcessTestCluster? _cluster;

    public ShiftableTimeProvider Clock { get; } = new();

    public IGrainFactory Grains => _cluster!.Client;

    public HearthSettings Settings { get; private set; } = null!;

    public DevAuthServerClient Auth => new(_plain, _auth!.BaseUrl);

    public DevFhirServerClient Fhir => new(_plain, _fhir!.BaseUrl);

    public async Task InitializeAsync()
    {
        _fhir = await NodeServer.StartAsync("deploy/fhir-server/server.js");
        _auth = await NodeServer.StartAsync("deploy/dev-auth-server/server.js", new Dictionary<string, string> { ["DEV_AUTH_API_KEY"] = ApiKey });
        var values = new Dictionary<string, string>
        {
            ["FHIR_SERVER_BASE"] = _fhir.BaseUrl,
            ["UMA_MODE"] = "false",
            ["UMA_SERVER_BASE"] = _auth.BaseUrl,
            ["UMA_SERVER_PROTECTION_API_KEY"] = ApiKey,
            ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
            ["HEARTH_TOKEN_CACHE_MAX_SECONDS"] = ((int)TokenCacheMax.TotalSeconds).ToString(),
            ["HEARTH_INACTIVE_TOKEN_CACHE_SECONDS"] = ((int)InactiveTokenCache.TotalSeconds).ToString(),
            ["HEARTH_PATIENT_CACHE_SECONDS"] = ((int)PatientCache.TotalSeconds).ToString(),
        };
        Settings = HearthSettings.Load(values.GetValueOrDefault);

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(Clock);
            silo.AddHearthGrains(Settings);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        foreach (var server in new[] { _fhir, _auth })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        _plain.Dispose();
    }
}
