using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Responses;

/// <summary>
/// AUGMENT_CAPABILITY_STATEMENT, as Pauldron Hearth does and a little more: the FHIR server's
/// CapabilityStatement gains, on <c>rest[0].security</c>, the OAuth security service and the
/// SMART <c>oauth-uris</c> extension pointing at the authorization server; the DS4P
/// implementation guide; and lists only the formats Hearth serves (FHIR JSON and XML, whatever
/// the FHIR server itself offers). Also Hearth's <c>/.well-known/smart-configuration</c>. With
/// a JWT issuer configured, both describe that issuer: its endpoints from its OpenID discovery
/// document (<see cref="IssuerEndpoints"/>), the SMART scopes and capabilities Hearth enforces.
/// </summary>
public sealed class CapabilityAugmenter(HearthSettings settings)
{
    /// <summary>The SMART capabilities Hearth enforces, whoever issues the tokens.</summary>
    public static readonly string[] EnforcedCapabilities = ["permission-v1", "permission-v2", "permission-patient", "permission-user"];

    /// <summary>The scope forms Hearth understands (each also for a resource type instead of <c>*</c>, and with token conditions).</summary>
    public static readonly string[] UnderstoodScopes =
        ["openid", "fhirUser", "launch/patient", "patient/*.cruds", "patient/*.rs", "patient/*.read", "patient/*.write", "user/*.cruds", "user/*.rs", "user/*.read", "system/*.cruds", "system/*.rs", "system/*.read"];

    public const string SecurityServiceSystem = "http://terminology.hl7.org/CodeSystem/restful-security-service";
    public const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    public const string Ds4pGuide = "http://hl7.org/fhir/uv/security-label-ds4p/ImplementationGuide/hl7.fhir.uv.security-label-ds4p";

    private string AuthorizationEndpoint => settings.AuthorizationServer.UmaServerBase + settings.AuthorizationServer.UmaServerAuthorizationEndpoint;

    /// <summary>Augments <paramref name="statement"/> in place when it is a CapabilityStatement; true when changed.</summary>
    /// <param name="issuer">The JWT issuer's endpoints, when one is configured (null: the UMA server's).</param>
    public bool Apply(JsonObject statement, IssuerEndpoints? issuer = null)
    {
        if (!settings.Gateway.AugmentCapabilityStatement || !FhirElements.TryGetString(statement, "resourceType", out var type) || type != "CapabilityStatement")
        {
            return false;
        }

        var formats = (statement["format"] as JsonArray ?? []).Select(f => f is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>()
            .Where(f => FormatNegotiation.Classify(f) is FhirFormat.Json or FhirFormat.Xml).ToList();
        foreach (var served in new[] { "application/fhir+json", "application/fhir+xml" })
        {
            if (!formats.Contains(served, StringComparer.OrdinalIgnoreCase))
            {
                formats.Add(served);
            }
        }

        statement["format"] = new JsonArray(formats.Select(f => (JsonNode)f).ToArray());

        var guides = statement["implementationGuide"] as JsonArray ?? [];
        if (!guides.Any(g => g is JsonValue v && v.TryGetValue<string>(out var s) && s == Ds4pGuide))
        {
            guides.Add(Ds4pGuide);
        }

        statement["implementationGuide"] = guides;

        if (statement["rest"] is JsonArray { Count: > 0 } rest && rest[0] is JsonObject server)
        {
            var security = server["security"] as JsonObject ?? new JsonObject();
            server["security"] = security;
            var services = security["service"] as JsonArray ?? [];
            services.Add(issuer is null
                ? new JsonObject
                {
                    ["coding"] = new JsonArray(new JsonObject { ["system"] = SecurityServiceSystem, ["code"] = "OAuth" }),
                    ["text"] = $"OAuth 2.0 / UMA 2.0 ({(settings.AuthorizationServer.UmaMode ? "UMA" : "OAuth")} mode) by the authorization server at {settings.AuthorizationServer.UmaServerBase}",
                }
                : new JsonObject
                {
                    ["coding"] = new JsonArray(new JsonObject { ["system"] = SecurityServiceSystem, ["code"] = "SMART-on-FHIR" }),
                    ["text"] = $"SMART on FHIR scopes in tokens of {issuer.Issuer}",
                });
            security["service"] = services;
            var extensions = security["extension"] as JsonArray ?? [];
            var uris = new JsonArray();
            foreach (var (name, uri) in new[] { ("token", issuer is null ? AuthorizationEndpoint : issuer.TokenEndpoint), ("authorize", issuer is null ? AuthorizationEndpoint : issuer.AuthorizationEndpoint) })
            {
                if (uri is not null)
                {
                    uris.Add(new JsonObject { ["url"] = name, ["valueUri"] = uri });
                }
            }

            extensions.Add(new JsonObject { ["url"] = OAuthUrisExtension, ["extension"] = uris });
            security["extension"] = extensions;
        }

        return true;
    }

    /// <summary>The SMART configuration document Hearth serves at <c>/.well-known/smart-configuration</c>.</summary>
    /// <param name="issuer">The JWT issuer's endpoints, when one is configured (null: the UMA server's).</param>
    public JsonObject SmartConfiguration(IssuerEndpoints? issuer = null)
    {
        if (issuer is null)
        {
            return new JsonObject
            {
                ["authorization_endpoint"] = AuthorizationEndpoint,
                ["token_endpoint"] = AuthorizationEndpoint,
                ["grant_types_supported"] = settings.AuthorizationServer.UmaMode
                    ? new JsonArray("urn:ietf:params:oauth:grant-type:uma-ticket")
                    : new JsonArray("client_credentials"),
                ["capabilities"] = new JsonArray(EnforcedCapabilities.Select(c => (JsonNode)c).ToArray()),
                ["dpop_signing_alg_values_supported"] = Strings(settings.AuthorizationServer.SenderConstraints.DpopAlgorithms),
            };
        }

        var document = new JsonObject { ["issuer"] = issuer.Issuer };
        foreach (var (name, value) in new[] { ("jwks_uri", issuer.JwksUri), ("authorization_endpoint", issuer.AuthorizationEndpoint), ("token_endpoint", issuer.TokenEndpoint), ("introspection_endpoint", issuer.IntrospectionEndpoint) })
        {
            if (value is not null)
            {
                document[name] = value;
            }
        }

        document["grant_types_supported"] = Strings(issuer.GrantTypes.Count > 0 ? issuer.GrantTypes : ["client_credentials"]);
        document["scopes_supported"] = Strings(UnderstoodScopes);
        document["capabilities"] = Strings([.. EnforcedCapabilities, .. issuer.Capabilities]);
        document["code_challenge_methods_supported"] = Strings(["S256"]);
        document["dpop_signing_alg_values_supported"] = Strings(settings.AuthorizationServer.SenderConstraints.DpopAlgorithms);
        return document;
    }

    /// <summary>
    /// RFC 9728 protected-resource metadata for <paramref name="resource"/> (the gateway's public
    /// base): the authorization server (the JWT issuer, else the UMA server), how tokens are sent,
    /// the DPoP algorithms (RFC 9449 §5.1) and whether DPoP is required, whether certificate-bound
    /// tokens can be checked (RFC 8705: the gateway's own TLS asks for client certificates, or a
    /// trusted proxy passes them).
    /// </summary>
    public JsonObject ProtectedResourceMetadata(string resource)
    {
        var server = settings.AuthorizationServer;
        var constraints = server.SenderConstraints;
        var document = new JsonObject
        {
            ["resource"] = resource,
            ["authorization_servers"] = Strings([server.Jwt?.Issuer is { Length: > 0 } issuer ? issuer : server.UmaServerBase]),
            ["bearer_methods_supported"] = Strings(server.UmaMode || !settings.Gateway.AllowQueryTokens ? ["header"] : ["header", "query"]),
            ["scopes_supported"] = Strings(UnderstoodScopes),
            ["dpop_signing_alg_values_supported"] = Strings(constraints.DpopAlgorithms),
            ["dpop_bound_access_tokens_required"] = constraints.DpopRequired,
            ["tls_client_certificate_bound_access_tokens"] = constraints.ClientCertificates != ClientCertificates.None || constraints.ClientCertificateHeader is not null,
        };
        return document;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Distinct().Select(v => (JsonNode)v).ToArray());
}

/// <summary>
/// What a JWT issuer's OpenID discovery document says of it, for the SMART configuration and the
/// CapabilityStatement; endpoints are null when discovery has not been read (the issuer is down).
/// </summary>
public sealed record IssuerEndpoints(
    string Issuer,
    string? AuthorizationEndpoint,
    string? TokenEndpoint,
    string? IntrospectionEndpoint,
    string? JwksUri,
    IReadOnlyList<string> GrantTypes,
    IReadOnlyList<string> Capabilities);
