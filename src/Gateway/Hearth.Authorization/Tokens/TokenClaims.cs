using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tokens;

/// <summary>
/// What Hearth reads of a token's claims, from an introspection answer or a JWT's payload alike:
/// Pauldron permissions (<c>permissions</c>, or a JSON array in <c>scope</c>), SMART scopes
/// (<c>scope</c>, a space-separated string; <c>scp</c>, a string or an array, as Entra ID and Okta
/// write it), the patient in context (<c>patient</c>, a logical id), and who asks (<c>sub</c>;
/// the client: <c>client_id</c>, else <c>azp</c>, <c>cid</c>, <c>appid</c>).
/// </summary>
public sealed record TokenClaims(string PermissionsJson, IReadOnlyList<string> Scopes, string? Patient, string? Subject, string? ClientId)
{
    /// <summary>What the token is bound to (<c>cnf</c>): a DPoP key, a client certificate, or nothing.</summary>
    public TokenBinding Binding { get; init; } = TokenBinding.None;

    /// <summary>At most this many scopes are read from one token; a claim's string at most this long.</summary>
    public const int MaxScopes = 256;

    private const int MaxClaimLength = 256;

    public static TokenClaims None { get; } = new("[]", [], null, null, null);

    public static TokenClaims Read(JsonElement root)
    {
        var permissions = new List<JsonElement>();
        if (root.TryGetProperty("permissions", out var p) && p.ValueKind == JsonValueKind.Array)
        {
            permissions.AddRange(p.EnumerateArray());
        }

        var scopes = new List<string>();
        JsonDocument? scopeDoc = null;
        try
        {
            if (root.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String && scope.GetString() is { } text)
            {
                if (text.TrimStart().StartsWith('['))
                {
                    scopeDoc = PauldronScope(text);
                    permissions.AddRange(scopeDoc?.RootElement.EnumerateArray() ?? []);
                }
                else
                {
                    scopes.AddRange(Split(text));
                }
            }

            if (root.TryGetProperty("scp", out var scp))
            {
                scopes.AddRange(scp.ValueKind switch
                {
                    JsonValueKind.String => Split(scp.GetString()!),
                    JsonValueKind.Array => scp.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
                    _ => [],
                });
            }

            var patient = Text(root, "patient") is { } id && PatientReference.IsValidId(id) ? id : null;
            var client = Text(root, "client_id") ?? Text(root, "azp") ?? Text(root, "cid") ?? Text(root, "appid");
            return new TokenClaims(JsonSerializer.Serialize(permissions), scopes.Distinct(StringComparer.Ordinal).Take(MaxScopes).ToList(), patient, Text(root, "sub"), client)
            {
                Binding = TokenBinding.Read(root),
            };
        }
        finally
        {
            scopeDoc?.Dispose();
        }
    }

    private static JsonDocument? PauldronScope(string text)
    {
        try
        {
            var doc = JsonDocument.Parse(text, FhirJson.DocumentOptions);
            if (doc.RootElement.ValueKind == JsonValueKind.Array)
            {
                return doc;
            }

            doc.Dispose();
        }
        catch (JsonException)
        {
            // A scope string that starts with '[' but is not JSON grants nothing.
        }

        return null;
    }

    private static IEnumerable<string> Split(string text) => text.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Where(s => s.Length <= 1024);

    private static string? Text(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= MaxClaimLength } text
            ? text
            : null;
}
