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

        var issuer = r.Text("HEARTH_JWT_ISSUER");
        if (issuer is null || !Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            r.Errors.Add("HEARTH_JWT_ISSUER is required with HEARTH_TOKEN_VALIDATION=jwt or both: the exact iss of the tokens, an http(s) URL (for example https://login.example.org/realms/fhir).");
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
        return (mode.Value, new JwtSettings
        {
            Issuer = issuer ?? "",
            JwksUrl = jwks.Length == 0 ? null : jwks,
            Audiences = audiences,
            Algorithms = algorithms,
            ClockSkew = r.Seconds("HEARTH_JWT_CLOCK_SKEW_SECONDS", TimeSpan.FromSeconds(30), max: 600),
            JwksRefresh = r.Seconds("HEARTH_JWKS_REFRESH_SECONDS", TimeSpan.FromSeconds(30), min: 1, max: 24 * 3600),
        });
    }
}
