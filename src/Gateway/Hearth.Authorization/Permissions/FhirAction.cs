namespace Hearth.Authorization.Permissions;

/// <summary>What a request does to a resource, in the terms permissions grant (Pauldron's scope names).</summary>
public enum FhirAction
{
    Read,
    Create,
    Update,
    Delete,
    BulkExport,
}

public static class FhirActions
{
    /// <summary>The action as permissions and permission tickets name it: read, create, update, delete, bulk-export.</summary>
    public static string Name(this FhirAction action) => action switch
    {
        FhirAction.Read => "read",
        FhirAction.Create => "create",
        FhirAction.Update => "update",
        FhirAction.Delete => "delete",
        FhirAction.BulkExport => "bulk-export",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };
}
