namespace Hearth.Authorization.Permissions;

/// <summary>
/// What a request does to a resource, in the terms permissions grant. SMART separates reading by
/// id (<see cref="Read"/>: read, vread, instance history) from searching (<see cref="Search"/>:
/// searches, type and system history, operations); Pauldron's <c>read</c> grants both.
/// </summary>
public enum FhirAction
{
    Read,
    Search,
    Create,
    Update,
    Delete,
    BulkExport,
}

public static class FhirActions
{
    /// <summary>
    /// The action as Pauldron permissions and permission tickets name it: read (reading by id and
    /// searching alike), create, update, delete, bulk-export.
    /// </summary>
    public static string Name(this FhirAction action) => action switch
    {
        FhirAction.Read or FhirAction.Search => "read",
        FhirAction.Create => "create",
        FhirAction.Update => "update",
        FhirAction.Delete => "delete",
        FhirAction.BulkExport => "bulk-export",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };
}
