namespace Hearth.Grains.Abstractions;

/// <summary>
/// Registers required permissions at the authorization server's permission endpoint (UMA mode)
/// and returns the ticket. Calls are made on a silo, bounded in time and number; a failure is
/// answered at once (null), never retried.
/// </summary>
[Alias("Hearth.IPermissionTicketGrain")]
public interface IPermissionTicketGrain : IGrainWithIntegerKey
{
    /// <param name="permissionsJson">The JSON array of permissions, in Pauldron's shape.</param>
    /// <returns>The ticket, or null when the authorization server could not register them.</returns>
    [Alias("Register")]
    Task<string?> RegisterAsync(string permissionsJson);
}
