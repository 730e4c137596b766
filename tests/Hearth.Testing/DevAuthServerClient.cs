using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hearth.Testing;

/// <summary>Drives the development authorization server (deploy/dev-auth-server): mint, revoke, count.</summary>
public sealed class DevAuthServerClient(HttpClient http, string baseUrl)
{
    public async Task<string> TokenAsync(string permissionsJson, int expiresInSeconds = 3600, string shape = "permissions", string timeUnit = "ms",
        string? smartScope = null, string? patient = null, string? claimsJson = null)
    {
        using var response = await http.PostAsync(baseUrl + "/dev/tokens", JsonContent.Create(new JsonObject
        {
            ["permissions"] = JsonNode.Parse(permissionsJson),
            ["expires_in"] = expiresInSeconds,
            ["shape"] = shape,
            ["time_unit"] = timeUnit,
            ["smart_scope"] = smartScope,
            ["patient"] = patient,
            ["claims"] = claimsJson is null ? null : JsonNode.Parse(claimsJson),
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

    /// <summary>Every permission array the permission endpoint received, oldest first.</summary>
    public async Task<JsonArray> RegistrationsAsync()
        => (JsonArray)JsonNode.Parse(await http.GetStringAsync(baseUrl + "/dev/registrations"))!;

    public async Task ResetStatsAsync()
    {
        using var response = await http.PostAsync(baseUrl + "/dev/reset-stats", null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Makes the permission endpoint fail ("down", "slow", "garbage") or work again (null).</summary>
    public async Task RegistrationFaultAsync(string? fault)
    {
        using var response = await http.PostAsync(baseUrl + "/dev/fault", JsonContent.Create(new JsonObject { ["registration"] = fault }));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>UMA: exchanges a ticket at the authorization endpoint for an RPT granting what the ticket registered.</summary>
    public async Task<HttpResponseMessage> AuthorizeAsync(string ticket, string shape = "permissions", string timeUnit = "ms")
        => await http.PostAsync(baseUrl + "/authorization", JsonContent.Create(new JsonObject
        {
            ["ticket"] = ticket,
            ["claim_tokens"] = new JsonArray(),
            ["shape"] = shape,
            ["time_unit"] = timeUnit,
        }));
}
