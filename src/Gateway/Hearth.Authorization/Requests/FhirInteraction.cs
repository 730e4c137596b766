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
}
