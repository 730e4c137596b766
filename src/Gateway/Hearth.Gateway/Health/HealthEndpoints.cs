using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Health;

/// <summary>/healthz (the process is alive) and /readyz (a silo answers; configuration was valid at start).</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("{\"status\":\"alive\"}", "application/json"));
        app.MapGet("/readyz", async (IGrainFactory grains, HttpContext context) =>
        {
            try
            {
                await grains.GetGrain<IPingGrain>(0).PingAsync().WaitAsync(TimeSpan.FromSeconds(3), context.RequestAborted);
                return Results.Text("{\"status\":\"ready\"}", "application/json");
            }
            catch (Exception e) when (Failures.IsClusterTransient(e) || e is OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
            {
                return Results.Text(OperationOutcomes.CreateString("transient", "No Hearth silo answers."), OperationOutcomes.ContentType, statusCode: 503);
            }
        });
    }
}
