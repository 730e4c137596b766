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

    /// <summary>The introspection endpoint's absolute URL.</summary>
    public string IntrospectionUrl => UmaServerBase + UmaServerIntrospectionEndpoint;

    internal static AuthorizationServerSettings Read(SettingsReader r)
    {
        var apiKey = r.Text("UMA_SERVER_PROTECTION_API_KEY");
        if (apiKey is null)
        {
            r.Errors.Add("UMA_SERVER_PROTECTION_API_KEY is required (the protection API key of the authorization server).");
        }

        return new AuthorizationServerSettings
        {
            UmaMode = r.Bool("UMA_MODE", true),
            UmaServerBase = r.Url("UMA_SERVER_BASE", required: true, "http://auth:8090"),
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
