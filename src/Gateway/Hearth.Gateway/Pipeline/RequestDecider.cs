using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Gateway.Interactions;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// Decides a checked request: authenticates it (unless it needs no token,
/// <see cref="UnprotectedTypes"/>), checks the token comes with what it is bound to
/// (<see cref="SenderConstraints"/>), and asks the first <see cref="IInteractionAuthorizer"/> that
/// handles its interaction, which refuses, answers or forwards it.
/// </summary>
internal sealed class RequestDecider(HearthSettings settings, Authenticator authenticator, SenderConstraints constraints, IEnumerable<IInteractionAuthorizer> authorizers)
{
    private readonly IInteractionAuthorizer[] _authorizers = authorizers.ToArray();

    /// <summary>The verdict; <paramref name="state"/> gets the token's principal and is set as a feature of <paramref name="context"/> before the authorizer runs.</summary>
    /// <remarks>A ValueTask: a warm read completes without waiting, and so without a task of its own.</remarks>
    public async ValueTask<Verdict> DecideAsync(HttpContext context, RequestState state)
    {
        var request = state.Request;
        if (!request.IsPublicMetadata && !UnprotectedTypes.NeedsNoToken(request, settings.Rules.UnprotectedResourceTypes))
        {
            var (principal, refusal, read) = await authenticator.AuthenticateAsync(context);
            if (refusal is not null)
            {
                return refusal;
            }

            if (await constraints.CheckAsync(context, state, read!, principal!) is { } unbound)
            {
                return unbound;
            }

            state.Principal = principal!;
        }

        context.Features.Set(state);
        return await AuthorizerOf(request).AuthorizeAsync(state, context);
    }

    /// <summary>The first authorizer that handles the request (the last one handles every request).</summary>
    private IInteractionAuthorizer AuthorizerOf(FhirRequest request)
    {
        foreach (var authorizer in _authorizers)
        {
            if (authorizer.Handles(request))
            {
                return authorizer;
            }
        }

        throw new InvalidOperationException($"No authorizer handles {request.Interaction}.");
    }
}
