namespace Hearth.Authorization.Requests;

public enum FhirInteraction
{
    Capabilities,
    SmartConfiguration,
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
}
