using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Hearth.Gateway.FunctionalTests.Infrastructure;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>The development authorization server speaks the Pauldron wire format of docs/AUTHORIZATION-SERVER.md.</summary>
[Collection(HearthCollection.Name)]
public class DevAuthServerTests(HearthEnvironment env)
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Introspection_MillisecondsAndPermissions_RequiresProtectionKey()
    {
        var token = await env.TokenAsync("[" + HearthEnvironment.Permission("10001") + "]", expiresInSeconds: 60);
        using var noKey = await Http.PostAsync(env.AuthBase + "/protection/introspection", new FormUrlEncodedContent([new("token", token)]));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, env.AuthBase + "/protection/introspection")
        {
            Content = new FormUrlEncodedContent([new("token", token)]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HearthEnvironment.ApiKey);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("active").GetBoolean());
        Assert.True(body.GetProperty("exp").GetInt64() > 100_000_000_000); // milliseconds, as Pauldron
        Assert.Equal(1, body.GetProperty("permissions").GetArrayLength());
    }

    [Fact]
    public async Task PermissionRegistration_Returns201Ticket()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, env.AuthBase + "/protection/permissions")
        {
            Content = new StringContent("[" + HearthEnvironment.Permission("10001") + "]", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HearthEnvironment.ApiKey);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()));
    }
}
