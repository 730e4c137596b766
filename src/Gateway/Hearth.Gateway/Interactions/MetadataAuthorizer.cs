using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Requests;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Tokens;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// <c>/metadata</c>, <c>/.well-known/smart-configuration</c> and <c>/.well-known/oauth-protected-resource</c>
/// (RFC 9728, always answered by Hearth: it describes the gateway, not the FHIR server): no token needed. With
/// AUGMENT_CAPABILITY_STATEMENT the CapabilityStatement gains the security service, and Hearth
/// answers the SMART configuration itself (it describes the authorization server Hearth enforces,
/// not the FHIR server); otherwise both are forwarded and passed as the FHIR server answers.
/// </summary>
internal sealed class MetadataAuthorizer(HearthSettings settings, CapabilityAugmenter capabilities, IssuerDiscovery issuer) : IInteractionAuthorizer
{
    public bool Handles(FhirRequest request) => request.IsPublicMetadata;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        if (state.Request.Interaction == FhirInteraction.ProtectedResourceMetadata)
        {
            var metadata = capabilities.ProtectedResourceMetadata(state.PublicBase);
            return new Answer(200, "application/json", Encoding.UTF8.GetBytes(metadata.ToJsonString(FhirJson.Output))) { IsFhirJson = false };
        }

        if (state.Request.Interaction == FhirInteraction.SmartConfiguration && settings.Gateway.AugmentCapabilityStatement)
        {
            var document = capabilities.SmartConfiguration(await issuer.GetAsync(http.RequestAborted));
            return new Answer(200, "application/json", Encoding.UTF8.GetBytes(document.ToJsonString(FhirJson.Output))) { IsFhirJson = false };
        }

        return Verdict.Forward(new Forwarding(this, state));
    }

    private async Task<Reply> JudgeAsync(RequestState state, UpstreamAnswer upstream, CancellationToken cancellationToken)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        if (!upstream.IsJson)
        {
            throw new UpstreamException("The FHIR server did not answer this metadata request with JSON.");
        }

        if (state.Request.Interaction == FhirInteraction.Capabilities && settings.Gateway.AugmentCapabilityStatement)
        {
            var statement = FhirJson.TryParse(upstream.Body.Span) as JsonObject ?? throw new UpstreamException("The FHIR server's CapabilityStatement is not JSON.");
            if (capabilities.Apply(statement, await issuer.GetAsync(cancellationToken)))
            {
                return Answer.Fhir(upstream.Status, statement.ToJsonString(FhirJson.Output));
            }
        }

        return new Answer(upstream.Status, Hearth.Authorization.Responses.OperationOutcomes.ContentType, upstream.Body) { KeepValidators = true };
    }

    private sealed class Forwarding(MetadataAuthorizer authorizer, RequestState state) : IForwarding
    {
        public Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken) => authorizer.JudgeAsync(state, upstream, cancellationToken);
    }
}
