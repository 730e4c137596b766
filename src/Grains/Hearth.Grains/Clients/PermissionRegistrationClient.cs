using System.Text;
using System.Text.Json;
using Hearth.Authorization.Configuration;

namespace Hearth.Grains.Clients;

/// <summary>
/// UMA permission registration at a Pauldron server: POST the JSON array of permissions to
/// UMA_SERVER_BASE + UMA_SERVER_PERMISSION_REGISTRATION_ENDPOINT with the protection API key as
/// bearer; the answer is 201 (or 200) <c>{"ticket": "..."}</c>.
/// <para>
/// Bounded so that a flood of requests without tokens cannot become a flood of registrations:
/// each call has the introspection timeout, at most <see cref="MaxConcurrent"/> run at once per
/// silo (the rest fail at once), and after a failure the endpoint is not called again for
/// <see cref="Pause"/> (calls fail at once). Nothing is retried.
/// </para>
/// </summary>
public sealed class PermissionRegistrationClient(HttpClient http, HearthSettings settings, PermissionRegistrationLimits limits, TimeProvider time)
{
    public const string HttpClientName = "hearth-permission-registration";
    public const int MaxConcurrent = 32;
    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(2);
    private const int MaxTicketLength = 512;

    /// <exception cref="AuthorizationServerUnavailableException">Not registered: unreachable, paused, busy, timed out, or an answer without a usable ticket.</exception>
    public async Task<string> RegisterAsync(string permissionsJson, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow().UtcTicks < Interlocked.Read(ref limits.PausedUntilTicks))
        {
            throw new AuthorizationServerUnavailableException("The permission endpoint failed moments ago; not asked again yet.");
        }

        if (!limits.Slots.Wait(0, CancellationToken.None))
        {
            throw new AuthorizationServerUnavailableException($"More than {MaxConcurrent} permission registrations are already under way.");
        }

        try
        {
            return await SendAsync(permissionsJson, cancellationToken);
        }
        catch (AuthorizationServerUnavailableException)
        {
            Interlocked.Exchange(ref limits.PausedUntilTicks, (time.GetUtcNow() + Pause).UtcTicks);
            throw;
        }
        finally
        {
            limits.Slots.Release();
        }
    }

    private async Task<string> SendAsync(string permissionsJson, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.UmaServerBase + settings.UmaServerPermissionRegistrationEndpoint)
        {
            Content = new StringContent(permissionsJson, Encoding.UTF8, "application/json"),
        };
        var body = await ProtectionApi.SendAsync(http, request, settings, "permission endpoint", [200, 201], cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("ticket", out var ticket) && ticket.ValueKind == JsonValueKind.String
                && ticket.GetString() is { Length: > 0 and <= MaxTicketLength } value
                && value.All(c => c is > ' ' and <= '~' and not '"' and not '\\'))
            {
                return value; // it goes into a quoted header parameter: printable ASCII only
            }
        }
        catch (JsonException)
        {
        }

        throw new AuthorizationServerUnavailableException("The permission endpoint's answer has no usable ticket.");
    }
}

/// <summary>The registration bounds of one silo (a singleton; the typed client itself is transient).</summary>
public sealed class PermissionRegistrationLimits
{
    public SemaphoreSlim Slots { get; } = new(PermissionRegistrationClient.MaxConcurrent, PermissionRegistrationClient.MaxConcurrent);

#pragma warning disable CA1051 // updated with Interlocked
    public long PausedUntilTicks;
#pragma warning restore CA1051
}
