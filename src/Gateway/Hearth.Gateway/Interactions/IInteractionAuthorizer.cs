using Hearth.Authorization.Requests;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The authorizer of one kind of interaction (reads and searches, writes, batches, exports,
/// metadata): the whole story of that interaction in one type. What to check before forwarding,
/// how the forwarded request changes, and how the answer is judged (its <see cref="IForwarding"/>).
/// </summary>
internal interface IInteractionAuthorizer
{
    bool Handles(FhirRequest request);

    /// <summary>Refuses, answers, or forwards. Throws <see cref="UpstreamException"/> when a read it needed failed.</summary>
    ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http);
}
