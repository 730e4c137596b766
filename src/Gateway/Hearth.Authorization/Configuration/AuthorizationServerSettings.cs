namespace Hearth.Authorization.Configuration;

/// <summary>The authorization server Hearth asks (Pauldron's UMA_* settings), and how long it trusts an answer.</summary>
public sealed class AuthorizationServerSettings
{
    public bool UmaMode { get; init; } = true;
    public required string UmaServerBase { get; init; }
    public string UmaServerRealm { get; init; } = "";
    public string UmaServerIntrospectionEndpoint { get; init; } = "/protection/introspection";
    public string UmaServerPermissionRegistrationEndpoint { get; init; } = "/protection/permissions";
    public string UmaServerAuthorizationEndpoint { get; init; } = "/authorization";
    public required string UmaServerProtectionApiKey { get; init; }
    public TimeSpan IntrospectionTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan TokenCacheMax { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan InactiveTokenCache { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>HEARTH_TOKEN_VALIDATION: introspection (default), jwt or both.</summary>
    public TokenValidation TokenValidation { get; init; } = TokenValidation.Introspection;

    /// <summary>Local JWT validation; null with HEARTH_TOKEN_VALIDATION=introspection.</summary>
    public JwtSettings? Jwt { get; init; }

    /// <summary>DPoP proofs and certificate-bound tokens.</summary>
    public SenderConstraintSettings SenderConstraints { get; init; } = new();

    /// <summary>
    /// HEARTH_INTROSPECTION_CLIENT_ID / _SECRET: introspection authenticated as an OAuth client
    /// (HTTP Basic, RFC 7662 with an OpenID provider) instead of with the protection API key.
    /// </summary>
    public string? IntrospectionClientId { get; init; }

    public string? IntrospectionClientSecret { get; init; }

    /// <summary>The introspection endpoint's absolute URL.</summary>
    public string IntrospectionUrl => UmaServerBase + UmaServerIntrospectionEndpoint;

    internal static AuthorizationServerSettings Read(SettingsReader r)
    {
        var (validation, jwt) = JwtSettings.Read(r);
        var umaMode = r.Bool("UMA_MODE", true);
        var clientId = r.Text("HEARTH_INTROSPECTION_CLIENT_ID");
        var clientSecret = r.Text("HEARTH_INTROSPECTION_CLIENT_SECRET");
        if ((clientId is null) != (clientSecret is null))
        {
            r.Errors.Add("HEARTH_INTROSPECTION_CLIENT_ID and HEARTH_INTROSPECTION_CLIENT_SECRET go together.");
        }

        // Introspection needs the server and a way to authenticate; so does UMA (tickets). With
        // HEARTH_TOKEN_VALIDATION=jwt and UMA_MODE=false, neither is needed.
        var needsServer = validation != TokenValidation.Jwt || umaMode;
        var apiKey = r.Text("UMA_SERVER_PROTECTION_API_KEY");
        if (needsServer && apiKey is null && (clientId is null || umaMode))
        {
            r.Errors.Add(validation == TokenValidation.Jwt
                ? "UMA_SERVER_PROTECTION_API_KEY is required in UMA mode (permission tickets); with HEARTH_TOKEN_VALIDATION=jwt and UMA_MODE=false it is not."
                : "UMA_SERVER_PROTECTION_API_KEY is required (the protection API key of the authorization server), or HEARTH_INTROSPECTION_CLIENT_ID/_SECRET "
                  + "outside UMA mode; with HEARTH_TOKEN_VALIDATION=jwt and UMA_MODE=false no introspection setting is needed.");
        }

        return new AuthorizationServerSettings
        {
            TokenValidation = validation,
            Jwt = jwt,
            SenderConstraints = SenderConstraintSettings.Read(r),
            IntrospectionClientId = clientId,
            IntrospectionClientSecret = clientSecret,
            UmaMode = umaMode,
            UmaServerBase = r.Url("UMA_SERVER_BASE", required: needsServer, "http://auth:8090"),
            UmaServerRealm = r.Text("UMA_SERVER_REALM") ?? "",
            UmaServerIntrospectionEndpoint = r.Path("UMA_SERVER_INTROSPECTION_ENDPOINT", "/protection/introspection"),
            UmaServerPermissionRegistrationEndpoint = r.Path("UMA_SERVER_PERMISSION_REGISTRATION_ENDPOINT", "/protection/permissions"),
            UmaServerAuthorizationEndpoint = r.Path("UMA_SERVER_AUTHORIZATION_ENDPOINT", "/authorization"),
            UmaServerProtectionApiKey = apiKey ?? "",
            IntrospectionTimeout = r.Seconds("HEARTH_INTROSPECTION_TIMEOUT_SECONDS", TimeSpan.FromSeconds(5), min: 1, max: 600),
            TokenCacheMax = r.Seconds("HEARTH_TOKEN_CACHE_MAX_SECONDS", TimeSpan.FromHours(1), min: 1),
            InactiveTokenCache = r.Seconds("HEARTH_INACTIVE_TOKEN_CACHE_SECONDS", TimeSpan.FromSeconds(10)),
        };
    }
}
