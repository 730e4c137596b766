using System.Net.Http.Headers;
using Hearth.Authorization.Configuration;

namespace Hearth.Grains.Clients;

/// <summary>One call to the authorization server's protection API (introspection, permission registration).</summary>
internal static class ProtectionApi
{
    /// <summary>
    /// Sends <paramref name="request"/> with the protection API key as bearer, within the
    /// introspection timeout, and returns the body of an answer whose status is one of
    /// <paramref name="expected"/>.
    /// </summary>
    /// <exception cref="AuthorizationServerUnavailableException">Unreachable, timed out, or another status.</exception>
    public static async Task<string> SendAsync(HttpClient http, HttpRequestMessage request, HearthSettings settings, string endpoint, int[] expected, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AuthorizationServer.UmaServerProtectionApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.AuthorizationServer.IntrospectionTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            if (!expected.Contains((int)response.StatusCode))
            {
                throw new AuthorizationServerUnavailableException($"The {endpoint} answered {(int)response.StatusCode}.");
            }

            return await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (HttpRequestException e)
        {
            throw new AuthorizationServerUnavailableException($"The {endpoint} is unreachable.", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AuthorizationServerUnavailableException($"The {endpoint} did not answer in time.", e);
        }
    }
}
