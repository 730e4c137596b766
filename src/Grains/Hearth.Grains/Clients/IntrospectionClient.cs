using Hearth.Authorization.Configuration;
using Hearth.Authorization.Tokens;
using Hearth.Grains.Abstractions;

namespace Hearth.Grains.Clients;

/// <summary>
/// RFC 7662 introspection at a Pauldron server: POST form <c>token=...</c> to
/// UMA_SERVER_BASE + UMA_SERVER_INTROSPECTION_ENDPOINT with the protection API key as bearer.
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
        var body = await ProtectionApi.SendAsync(http, request, settings, "introspection endpoint", [200], cancellationToken);
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
