using Hearth.Gateway.Extensions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Hearth.Gateway.FunctionalTests.Infrastructure;

/// <summary>A real gateway on Kestrel 127.0.0.1 with its embedded Orleans silo.</summary>
internal sealed class GatewayInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayInstance(WebApplication app, string baseUrl, ShiftableTimeProvider clock, CapturingLoggerProvider logs)
    {
        Logs = logs;
        _app = app;
        BaseUrl = baseUrl;
        Clock = clock;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    /// <summary>The gateway's services (to read what it counts, e.g. its grain calls).</summary>
    public IServiceProvider Services => _app.Services;

    public ShiftableTimeProvider Clock { get; }

    /// <summary>Every log line this gateway wrote at or above the configured level.</summary>
    public CapturingLoggerProvider Logs { get; }

    public static async Task<GatewayInstance> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["HEARTH_SILO_PORT"] = FreePort().ToString(),
            ["HEARTH_SILO_GATEWAY_PORT"] = FreePort().ToString(),
            ["HEARTH_CLUSTER_ID"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            overrides[key] = value;
        }

        var clock = new ShiftableTimeProvider();
        var logs = new CapturingLoggerProvider();
        var app = HearthGatewayApp.Build([], overrides, services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton<ILoggerProvider>(logs);
            configure?.Invoke(services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayInstance(app, address.TrimEnd('/'), clock, logs);
    }

    public static int FreePort() => TestPorts.Free();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
