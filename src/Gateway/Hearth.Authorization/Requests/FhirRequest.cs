using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Requests;

/// <summary>A classified request: what it does, on what, and the action it implies.</summary>
public sealed record FhirRequest(FhirInteraction Interaction, string? ResourceType, string? Id)
{
    /// <summary>
    /// The action the request implies: create, update (a patch too), delete, bulk-export for the
    /// requests of an export; search for searches, type and system history and operations (what
    /// answers with a Bundle of matches); read for reads by id (read, vread, instance history) and
    /// the rest (a batch's entries carry their own).
    /// </summary>
    public FhirAction Action => Interaction switch
    {
        FhirInteraction.Create => FhirAction.Create,
        FhirInteraction.Update or FhirInteraction.Patch => FhirAction.Update,
        FhirInteraction.Delete => FhirAction.Delete,
        FhirInteraction.BulkExport or FhirInteraction.ExportStatus or FhirInteraction.ExportFile => FhirAction.BulkExport,
        FhirInteraction.SearchType or FhirInteraction.SearchSystem or FhirInteraction.SearchCompartment
            or FhirInteraction.HistoryType or FhirInteraction.HistorySystem or FhirInteraction.Operation => FhirAction.Search,
        _ => FhirAction.Read,
    };

    /// <summary>The operation's name without '$', for <see cref="FhirInteraction.Operation"/>.</summary>
    public string? Operation { get; init; }

    /// <summary>For <see cref="FhirInteraction.Operation"/>: how it is judged (<see cref="Operations"/>).</summary>
    public OperationRule? OperationRule { get; init; }

    /// <summary>An operation (or a bulk export kick-off) invoked by POST, its parameters in the body.</summary>
    public bool ByPost { get; init; }

    /// <summary>For a compartment search (<c>Patient/x/Observation</c>): the compartment's type; <see cref="Id"/> is its id.</summary>
    public string? Compartment { get; init; }

    /// <summary>For <see cref="FhirInteraction.ExportFile"/>: the file's place in the manifest (<see cref="Id"/> is the export's id).</summary>
    public int? FileIndex { get; init; }

    /// <summary>Bulk export kick-off, status and files: the requests of one export.</summary>
    public bool IsExport => Interaction is FhirInteraction.BulkExport or FhirInteraction.ExportStatus or FhirInteraction.ExportFile;

    /// <summary>
    /// A conditional interaction: a create with <c>If-None-Exist</c>, or <c>PUT</c>/<c>PATCH</c>/<c>DELETE [type]?criteria</c>
    /// (<see cref="Id"/> null). Hearth resolves its criteria with the token's view and sends the plain interaction.
    /// </summary>
    public bool Conditional { get; init; }

    /// <summary>A search whose parameters come in a form-encoded body (POST [type]/_search).</summary>
    public bool FormSearch { get; init; }

    /// <summary>/metadata, /.well-known/smart-configuration and /.well-known/oauth-protected-resource: no token needed, not filtered.</summary>
    public bool IsPublicMetadata => Interaction is FhirInteraction.Capabilities or FhirInteraction.SmartConfiguration or FhirInteraction.ProtectedResourceMetadata;

    /// <summary>A read or vread returns one resource, judged whole (even when it is a Bundle).</summary>
    public bool ReturnsSingleResource => Interaction is FhirInteraction.Read or FhirInteraction.VRead;

    /// <summary>A batch or transaction Bundle posted to the base.</summary>
    public bool IsBatch => Interaction == FhirInteraction.Batch;

    /// <summary>Create, update, patch, delete: authorized before anything is forwarded.</summary>
    public bool IsWrite => Interaction is FhirInteraction.Create or FhirInteraction.Update or FhirInteraction.Patch or FhirInteraction.Delete;
}
