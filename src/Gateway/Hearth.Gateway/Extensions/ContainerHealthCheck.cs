namespace Hearth.Gateway.Extensions;

internal static class ContainerHealthCheck
{
    /// <summary>0 when http://127.0.0.1:{PORT or 8080}/healthz answers 200 within 3 s, else 1.</summary>
    public static async Task<int> RunAsync()
    {
        var port = int.TryParse(Environment.GetEnvironmentVariable("PORT"), out var p) ? p : 8080;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{port}/healthz");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
