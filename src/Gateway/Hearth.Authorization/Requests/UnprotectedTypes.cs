namespace Hearth.Authorization.Requests;

/// <summary>UNPROTECTED_RESOURCE_TYPES, as Pauldron Hearth has them: which requests need no token.</summary>
public static class UnprotectedTypes
{
    /// <summary>
    /// An interaction on the type itself (read, vread, search, type and instance history, create,
    /// update, patch, delete) of an unprotected type needs no token; never a compartment search, a
    /// system-level interaction or an operation. A write is still judged: its body and stored
    /// version must be of that type (anything else they hold is protected as always).
    /// </summary>
    public static bool NeedsNoToken(FhirRequest request, IReadOnlySet<string> unprotected)
        => request.ResourceType is { } type
        && unprotected.Contains(type)
        && request.Interaction is FhirInteraction.Read or FhirInteraction.VRead or FhirInteraction.SearchType
            or FhirInteraction.HistoryType or FhirInteraction.HistoryInstance
            or FhirInteraction.Create or FhirInteraction.Update or FhirInteraction.Patch or FhirInteraction.Delete;
}
