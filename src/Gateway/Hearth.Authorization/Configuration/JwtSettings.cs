namespace Hearth.Authorization.Configuration;

/// <summary>How access tokens are checked (HEARTH_TOKEN_VALIDATION).</summary>
public enum TokenValidation
{
    /// <summary>Every token is introspected (RFC 7662) through its TokenGrain.</summary>
    Introspection,

    /// <summary>Every token must be a JWT of HEARTH_JWT_ISSUER, validated locally.</summary>
    Jwt,

    /// <summary>A JWS whose <c>iss</c> is HEARTH_JWT_ISSUER is validated locally; anything else is introspected.</summary>
    Both,
}

/// <summary>Local validation of JWT access tokens: whose, for whom, signed how.</summary>
public sealed class JwtSettings
{
    /// <summary>What HEARTH_JWT_ALGORITHMS may name: the RSA, RSA-PSS and ECDSA families. Never none, never HMAC.</summary>
    public static readonly string[] AsymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>HEARTH_JWT_ISSUER: the expected <c>iss</c>, exactly; its keys come from its OpenID discovery document.</summary>
    public required string Issuer { get; init; }

    /// <summary>HEARTH_JWKS_URL: the keys' URL, instead of discovery.</summary>
    public string? JwksUrl { get; init; }

    /// <summary>HEARTH_JWT_AUDIENCE: the accepted <c>aud</c> values.</summary>
    public IReadOnlyList<string> Audiences { get; init; } = [];

    public IReadOnlyList<string> Algorithms { get; init; } = AsymmetricAlgorithms;

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>HEARTH_JWKS_REFRESH_SECONDS: at most one fetch of the keys per this, for tokens with an unknown <c>kid</c>.</summary>
    public TimeSpan JwksRefresh { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>HEARTH_JWKS_MAX_AGE_SECONDS: how long fetched keys are used before they are fetched again (a withdrawn key is trusted at most this long, unless an admin refresh comes first).</summary>
    public TimeSpan KeysMaxAge { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The JOSE <c>typ</c> values of access tokens, RFC 9068 §4: <c>at+jwt</c> (and its long form
    /// <c>application/at+jwt</c>); HEARTH_JWT_ACCEPTED_TYPES lists others (Entra ID and Keycloak write <c>JWT</c>).
    /// Compared without case and without an <c>application/</c> prefix (RFC 7515 §4.1.9).
    /// </summary>
    public IReadOnlyList<string> AcceptedTypes { get; init; } = DefaultTypes;

    /// <summary>HEARTH_JWT_ALLOW_HTTP: discovery and keys may be fetched over plain http (development only).</summary>
    public bool AllowHttp { get; init; }

    public static readonly string[] DefaultTypes = ["at+jwt"];

    /// <summary>Where discovery is: <c>{issuer}/.well-known/openid-configuration</c>.</summary>
    public string DiscoveryUrl => Issuer.TrimEnd('/') + "/.well-known/openid-configuration";

    internal static (TokenValidation Mode, JwtSettings? Jwt) Read(SettingsReader r)
    {
        var mode = (r.Text("HEARTH_TOKEN_VALIDATION") ?? "introspection").ToLowerInvariant() switch
        {
            "introspection" => TokenValidation.Introspection,
            "jwt" => TokenValidation.Jwt,
            "both" => TokenValidation.Both,
            _ => (TokenValidation?)null,
        };
        if (mode is null)
        {
            r.Errors.Add("HEARTH_TOKEN_VALIDATION must be introspection, jwt or both.");
            return (TokenValidation.Introspection, null);
        }

        if (mode == TokenValidation.Introspection)
        {
            return (mode.Value, null);
        }

        var allowHttp = r.Bool("HEARTH_JWT_ALLOW_HTTP", false);
        var issuer = r.Text("HEARTH_JWT_ISSUER");
        if (issuer is null || !Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            r.Errors.Add("HEARTH_JWT_ISSUER is required with HEARTH_TOKEN_VALIDATION=jwt or both: the exact iss of the tokens, an http(s) URL (for example https://login.example.org/realms/fhir).");
        }
        else if (uri.Scheme != "https" && !allowHttp)
        {
            r.Errors.Add("HEARTH_JWT_ISSUER must be an https URL: its discovery document and keys decide which tokens are trusted. Plain http only with HEARTH_JWT_ALLOW_HTTP=true (development).");
        }

        var audiences = r.List("HEARTH_JWT_AUDIENCE");
        if (audiences.Count == 0)
        {
            r.Errors.Add("HEARTH_JWT_AUDIENCE is required with HEARTH_TOKEN_VALIDATION=jwt or both: the aud values Hearth accepts, comma-separated.");
        }

        var algorithms = r.List("HEARTH_JWT_ALGORITHMS", AsymmetricAlgorithms);
        foreach (var bad in algorithms.Where(a => !AsymmetricAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            r.Errors.Add($"HEARTH_JWT_ALGORITHMS may name only {string.Join(", ", AsymmetricAlgorithms)}: '{bad}' is not one (never none, never HMAC).");
        }

        var jwks = r.Url("HEARTH_JWKS_URL", required: false, "https://login.example.org/keys");
        if (jwks.StartsWith("http:", StringComparison.OrdinalIgnoreCase) && !allowHttp)
        {
            r.Errors.Add("HEARTH_JWKS_URL must be an https URL (plain http only with HEARTH_JWT_ALLOW_HTTP=true, for development).");
        }

        var types = AcceptedTypesOf(r, audiences);
        return (mode.Value, new JwtSettings
        {
            Issuer = issuer ?? "",
            JwksUrl = jwks.Length == 0 ? null : jwks,
            Audiences = audiences,
            Algorithms = algorithms,
            ClockSkew = r.Seconds("HEARTH_JWT_CLOCK_SKEW_SECONDS", TimeSpan.FromSeconds(30), max: 600),
            JwksRefresh = r.Seconds("HEARTH_JWKS_REFRESH_SECONDS", TimeSpan.FromSeconds(30), min: 1, max: 24 * 3600),
            KeysMaxAge = r.Seconds("HEARTH_JWKS_MAX_AGE_SECONDS", TimeSpan.FromMinutes(15), min: 60, max: 24 * 3600),
            AcceptedTypes = types,
            AllowHttp = allowHttp,
        });
    }

    /// <summary>HEARTH_JWT_ACCEPTED_TYPES, normalised; and the audiences checked for what a resource indicator may not have.</summary>
    private static List<string> AcceptedTypesOf(SettingsReader r, List<string> audiences)
    {
        var types = r.List("HEARTH_JWT_ACCEPTED_TYPES", DefaultTypes).Select(NormalType).Distinct(StringComparer.Ordinal).ToList();
        if (types.Count == 0 || types.Any(t => t.Length == 0 || t.Any(c => c <= ' ' || c > '~')))
        {
            r.Errors.Add("HEARTH_JWT_ACCEPTED_TYPES lists JOSE typ values, comma-separated (for example at+jwt,JWT).");
        }

        foreach (var audience in audiences.Where(a => a.Contains('#', StringComparison.Ordinal)))
        {
            r.Errors.Add($"HEARTH_JWT_AUDIENCE: '{audience}' has a fragment; an audience is a resource indicator (RFC 8707: an absolute URI without fragment) or the authorization server's name for Hearth.");
        }

        return types;
    }

    /// <summary>A <c>typ</c> as compared: lower case, without the <c>application/</c> prefix RFC 7515 §4.1.9 lets it omit.</summary>
    public static string NormalType(string typ)
    {
        var lower = typ.Trim().ToLowerInvariant();
        return lower.StartsWith("application/", StringComparison.Ordinal) ? lower["application/".Length..] : lower;
    }
}
