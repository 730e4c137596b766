using System.Net.Http.Headers;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Tokens;
using Hearth.Grains.Abstractions;

namespace Hearth.Grains.Clients;

/// <summary>
/// RFC 7662 introspection at a Pauldron server: POST form <c>token=...</c> to
/// UMA_SERVER_BASE + UMA_SERVER_INTROSPECTION_ENDPOINT with the protection API key as bearer,
/// or as the OAuth client HEARTH_INTROSPECTION_CLIENT_ID (HTTP Basic) for an OpenID provider.
/// </summary>
public sealed class IntrospectionClient(HttpClient http, HearthSettings settings)
{
    public const string HttpClientName = "hearth-introspection";

    /// <exception cref="AuthorizationServerUnavailableException">Unreachable, timed out, non-200, or not an introspection answer.</exception>
    public async Task<IntrospectionResponse> IntrospectAsync(string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.AuthorizationServer.IntrospectionUrl)
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("token", token)]),
        };
        var server = settings.AuthorizationServer;
        var credentials = server.IntrospectionClientId is { } id
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(server.IntrospectionClientSecret!))))
            : null; // RFC 6749 §2.3.1: both form-encoded, then Basic
        var body = await ProtectionApi.SendAsync(http, request, settings, "introspection endpoint", [200], cancellationToken, credentials);
        try
        {
            return IntrospectionResponse.Parse(body);
        }
        catch (FormatException e)
        {
            throw new AuthorizationServerUnavailableException("The introspection endpoint's answer is not an introspection response.", e);
        }
    }
}
