using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Testing;

/// <summary>Drives the development authorization server (deploy/dev-auth-server): mint, revoke, count.</summary>
public sealed class DevAuthServerClient(HttpClient http, string baseUrl)
{
    public async Task<string> TokenAsync(string permissionsJson, int expiresInSeconds = 3600, string shape = "permissions", string timeUnit = "ms")
    {
        using var response = await http.PostAsync(baseUrl + "/dev/tokens", JsonContent.Create(new JsonObject
        {
            ["permissions"] = JsonNode.Parse(permissionsJson),
            ["expires_in"] = expiresInSeconds,
            ["shape"] = shape,
            ["time_unit"] = timeUnit,
        }));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public async Task RevokeAsync(string token)
    {
        using var response = await http.PostAsync(baseUrl + "/dev/revoke", JsonContent.Create(new { token }));
        response.EnsureSuccessStatusCode();
    }

    public async Task<int> IntrospectionsAsync()
        => (await http.GetFromJsonAsync<JsonElement>(baseUrl + "/dev/stats")).GetProperty("introspections").GetInt32();
}
