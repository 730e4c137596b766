using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Tokens;

/// <summary>The configured JWT issuer as its discovery document describes it (for /metadata and the SMART configuration); null without one.</summary>
internal sealed class IssuerDiscovery(HearthSettings settings, SigningKeys? keys = null)
{
    public async Task<IssuerEndpoints?> GetAsync(CancellationToken cancellationToken)
    {
        if (settings.AuthorizationServer.Jwt is not { } jwt || keys is null)
        {
            return null;
        }

        var discovered = await keys.CurrentAsync(cancellationToken);
        var capabilities = new List<string>();
        if (discovered?.TokenEndpointAuthMethodsSupported.Any(m => m is "client_secret_basic" or "client_secret_post") == true)
        {
            capabilities.Add("client-confidential-symmetric");
        }

        if (discovered?.TokenEndpointAuthMethodsSupported.Contains("private_key_jwt") == true)
        {
            capabilities.Add("client-confidential-asymmetric");
        }

        return new IssuerEndpoints(
            jwt.Issuer,
            Empty(discovered?.AuthorizationEndpoint),
            Empty(discovered?.TokenEndpoint),
            Empty(discovered?.IntrospectionEndpoint),
            Empty(discovered?.JwksUri) ?? jwt.JwksUrl,
            discovered?.GrantTypesSupported.ToList() ?? [],
            capabilities);
    }

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
