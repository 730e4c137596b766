using System.Text.Json.Nodes;
using Hearth.Authorization.Requests;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// How a batch or transaction was decided: which entries went to the FHIR server (in order), what
/// each entry asked for, and the error entries standing in for those that did not go.
/// </summary>
internal sealed class BatchPlan(bool transaction, int count)
{
    public bool Transaction { get; } = transaction;

    /// <summary>How many entries the client sent.</summary>
    public int Count { get; } = count;

    /// <summary>For each forwarded entry, in order: its index in the client's Bundle.</summary>
    public List<int> Forwarded { get; } = [];

    /// <summary>Index in the client's Bundle → the classified request of that entry.</summary>
    public Dictionary<int, FhirRequest> Requests { get; } = [];

    /// <summary>Index in the client's Bundle → for a Consent write, the patients whose Consents are forgotten once it succeeded.</summary>
    public Dictionary<int, IReadOnlyList<string>> ConsentPatients { get; } = [];

    /// <summary>Index in the client's Bundle → the error entry answering it (batch only).</summary>
    public Dictionary<int, JsonObject> Errors { get; } = [];
}
