using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tokens;

/// <summary>
/// An RFC 7662 introspection answer as a Pauldron server gives it. <c>iat</c>/<c>exp</c> may be
/// seconds (RFC 7662) or milliseconds (Pauldron): a value above 10^11 is milliseconds. What it
/// grants: <see cref="TokenClaims"/>.
/// </summary>
public sealed record IntrospectionResponse(bool Active, DateTimeOffset? ExpiresAt, DateTimeOffset? IssuedAt, TokenClaims Claims)
{
    public static IntrospectionResponse Inactive { get; } = new(false, null, null, TokenClaims.None);

    /// <summary>The Pauldron permissions (a JSON array).</summary>
    public string PermissionsJson => Claims.PermissionsJson;

    /// <summary>Throws <see cref="FormatException"/> when the answer is not an introspection response.</summary>
    public static IntrospectionResponse Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, FhirJson.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException("The introspection answer is not JSON.", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("active", out var active)
                || active.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new FormatException("The introspection answer has no boolean 'active'.");
            }

            if (active.ValueKind != JsonValueKind.True)
            {
                return Inactive;
            }

            return new IntrospectionResponse(true, Time(root, "exp"), Time(root, "iat"), TokenClaims.Read(root));
        }
    }

    private static DateTimeOffset? Time(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < 0 || number > 1e15)
        {
            throw new FormatException($"The introspection answer has an invalid '{name}'.");
        }

        var ms = number > 1e11 ? number : number * 1000;
        return DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
    }
}
