using System.Text.Json;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Grains.Abstractions;

namespace Hearth.Grains.Clients;

/// <summary>
/// UMA permission registration at a Pauldron server: POST the JSON array of permissions to
/// UMA_SERVER_BASE + UMA_SERVER_PERMISSION_REGISTRATION_ENDPOINT with the protection API key as
/// bearer; the answer is 201 (or 200) <c>{"ticket": "..."}</c>.
/// <para>
/// Bounded so that a flood of requests without tokens cannot become a flood of registrations:
/// each call has the introspection timeout and at most <see cref="MaxConcurrent"/> run at once per
/// silo (the rest fail at once). After a failure the endpoint is half-open: one call at a time
/// probes it (the others fail at once) until one succeeds, so the first request after the
/// authorization server is back gets its ticket, and an outage sees one call in flight per silo.
/// Nothing is retried.
/// </para>
/// </summary>
public sealed class PermissionRegistrationClient(HttpClient http, HearthSettings settings, PermissionRegistrationLimits limits)
{
    public const string HttpClientName = "hearth-permission-registration";
    public const int MaxConcurrent = 32;
    private const int MaxTicketLength = 512;

    /// <exception cref="AuthorizationServerUnavailableException">Not registered: unreachable, probing, busy, timed out, or an answer without a usable ticket.</exception>
    public async Task<string> RegisterAsync(string permissionsJson, CancellationToken cancellationToken)
    {
        var failing = Volatile.Read(ref limits.Failing) != 0;
        var gate = failing ? limits.Probe : limits.Slots;
        if (!gate.Wait(0, CancellationToken.None))
        {
            throw new AuthorizationServerUnavailableException(failing
                ? "The permission endpoint failed and is being probed by another request."
                : $"More than {MaxConcurrent} permission registrations are already under way.");
        }

        try
        {
            var ticket = await SendAsync(permissionsJson, cancellationToken);
            Volatile.Write(ref limits.Failing, 0);
            return ticket;
        }
        catch (AuthorizationServerUnavailableException)
        {
            Volatile.Write(ref limits.Failing, 1);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<string> SendAsync(string permissionsJson, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.AuthorizationServer.UmaServerBase + settings.AuthorizationServer.UmaServerPermissionRegistrationEndpoint)
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

    /// <summary>While the endpoint is failing: the one call that may probe it.</summary>
    public SemaphoreSlim Probe { get; } = new(1, 1);

#pragma warning disable CA1051 // updated with Volatile
    public int Failing;
#pragma warning restore CA1051
}
