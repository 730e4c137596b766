using System.Net.Http.Headers;
using Hearth.Authorization.Configuration;
using Hearth.ServiceDefaults;

namespace Hearth.Grains.Clients;

/// <summary>One call to the authorization server's protection API (introspection, permission registration).</summary>
internal static class ProtectionApi
{
    /// <summary>Answers larger than this are not read (an introspection answer carries permissions, not data).</summary>
    public const int MaxAnswerBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Sends <paramref name="request"/> with the protection API key as bearer, within the
    /// introspection timeout, and returns the body of an answer whose status is one of
    /// <paramref name="expected"/>.
    /// </summary>
    /// <exception cref="AuthorizationServerUnavailableException">Unreachable, timed out, too large, or another status.</exception>
    public static async Task<string> SendAsync(HttpClient http, HttpRequestMessage request, HearthSettings settings, string endpoint, int[] expected, CancellationToken cancellationToken,
        AuthenticationHeaderValue? credentials = null)
    {
        request.Headers.Authorization = credentials ?? new AuthenticationHeaderValue("Bearer", settings.AuthorizationServer.UmaServerProtectionApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        OutboundAnswer answer;
        try
        {
            answer = await OutboundHttp.SendAsync(http, request, settings.AuthorizationServer.IntrospectionTimeout, MaxAnswerBytes, status => expected.Contains((int)status), cancellationToken);
        }
        catch (OutboundException e)
        {
            throw new AuthorizationServerUnavailableException($"The {endpoint} gave no usable answer: {e.Message}.", e);
        }

        return answer.Body is { } body
            ? System.Text.Encoding.UTF8.GetString(body)
            : throw new AuthorizationServerUnavailableException($"The {endpoint} answered {(int)answer.Status}.");
    }
}
