namespace Hearth.Authorization.Requests;

public enum FhirInteraction
{
    Capabilities,
    SmartConfiguration,

    /// <summary>RFC 9728 protected-resource metadata (<c>/.well-known/oauth-protected-resource</c>), answered by Hearth.</summary>
    ProtectedResourceMetadata,
    Read,
    VRead,
    SearchType,
    SearchSystem,
    SearchCompartment,
    HistoryInstance,
    HistoryType,
    HistorySystem,
    Operation,
    Create,
    Update,
    Patch,
    Delete,

    /// <summary>POST of a batch or transaction Bundle to the base: every entry is decided alone.</summary>
    Batch,

    /// <summary>Bulk Data kick-off: GET [base]/$export, Patient/$export or Group/[id]/$export (action bulk-export).</summary>
    BulkExport,

    /// <summary>The status of an export Hearth started: GET (poll) or DELETE (cancel) /_hearth/export/[id].</summary>
    ExportStatus,

    /// <summary>One file of an export's manifest: GET /_hearth/export/[id]/file/[n].</summary>
    ExportFile,
}
