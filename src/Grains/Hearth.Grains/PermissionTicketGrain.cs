using Hearth.Grains.Abstractions;
using Hearth.Grains.Clients;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Hearth.Grains;

/// <summary>
/// One per silo core, stateless: see <see cref="IPermissionTicketGrain"/>. Reentrant: calls do
/// not queue behind a registration that hangs (the client's bounds decide who may call at once).
/// </summary>
[StatelessWorker]
[Reentrant]
internal sealed partial class PermissionTicketGrain(PermissionRegistrationClient client, ILogger<PermissionTicketGrain> logger) : Grain, IPermissionTicketGrain
{
    public async Task<string?> RegisterAsync(string permissionsJson)
    {
        try
        {
            return await client.RegisterAsync(permissionsJson, CancellationToken.None);
        }
        catch (AuthorizationServerUnavailableException e)
        {
            LogRegistrationFailed(logger, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Permission registration failed: {Reason}")]
    private static partial void LogRegistrationFailed(ILogger logger, string reason);
}
