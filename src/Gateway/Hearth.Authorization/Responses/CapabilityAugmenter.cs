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
/// the FHIR server itself offers). Also Hearth's <c>/.well-known/smart-configuration</c>.
/// </summary>
public sealed class CapabilityAugmenter(HearthSettings settings)
{
    public const string SecurityServiceSystem = "http://terminology.hl7.org/CodeSystem/restful-security-service";
    public const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    public const string Ds4pGuide = "http://hl7.org/fhir/uv/security-label-ds4p/ImplementationGuide/hl7.fhir.uv.security-label-ds4p";

    private string AuthorizationEndpoint => settings.AuthorizationServer.UmaServerBase + settings.AuthorizationServer.UmaServerAuthorizationEndpoint;

    /// <summary>Augments <paramref name="statement"/> in place when it is a CapabilityStatement; true when changed.</summary>
    public bool Apply(JsonObject statement)
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
            services.Add(new JsonObject
            {
                ["coding"] = new JsonArray(new JsonObject { ["system"] = SecurityServiceSystem, ["code"] = "OAuth" }),
                ["text"] = $"OAuth 2.0 / UMA 2.0 ({(settings.AuthorizationServer.UmaMode ? "UMA" : "OAuth")} mode) by the authorization server at {settings.AuthorizationServer.UmaServerBase}",
            });
            security["service"] = services;
            var extensions = security["extension"] as JsonArray ?? [];
            extensions.Add(new JsonObject
            {
                ["url"] = OAuthUrisExtension,
                ["extension"] = new JsonArray(
                    new JsonObject { ["url"] = "token", ["valueUri"] = AuthorizationEndpoint },
                    new JsonObject { ["url"] = "authorize", ["valueUri"] = AuthorizationEndpoint }),
            });
            security["extension"] = extensions;
        }

        return true;
    }

    /// <summary>The SMART configuration document Hearth serves at <c>/.well-known/smart-configuration</c>.</summary>
    public JsonObject SmartConfiguration() => new()
    {
        ["authorization_endpoint"] = AuthorizationEndpoint,
        ["token_endpoint"] = AuthorizationEndpoint,
        ["grant_types_supported"] = settings.AuthorizationServer.UmaMode
            ? new JsonArray("urn:ietf:params:oauth:grant-type:uma-ticket")
            : new JsonArray("client_credentials"),
        ["capabilities"] = new JsonArray(),
    };
}
