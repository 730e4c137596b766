using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tokens;

/// <summary>
/// An RFC 7662 introspection answer as a Pauldron server gives it. <c>iat</c>/<c>exp</c> may be
/// seconds (RFC 7662) or milliseconds (Pauldron): a value above 10^11 is milliseconds. Granted
/// permissions come from <c>permissions</c> and/or a JSON-encoded array in <c>scope</c>.
/// </summary>
public sealed record IntrospectionResponse(bool Active, DateTimeOffset? ExpiresAt, DateTimeOffset? IssuedAt, string PermissionsJson)
{
    public static IntrospectionResponse Inactive { get; } = new(false, null, null, "[]");

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

            var exp = Time(root, "exp");
            var iat = Time(root, "iat");
            var permissions = new List<JsonElement>();
            if (root.TryGetProperty("permissions", out var p) && p.ValueKind == JsonValueKind.Array)
            {
                permissions.AddRange(p.EnumerateArray());
            }

            JsonDocument? scopeDoc = null;
            try
            {
                if (root.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String
                    && scope.GetString() is { } text && text.TrimStart().StartsWith('['))
                {
                    try
                    {
                        scopeDoc = JsonDocument.Parse(text);
                        if (scopeDoc.RootElement.ValueKind == JsonValueKind.Array)
                        {
                            permissions.AddRange(scopeDoc.RootElement.EnumerateArray());
                        }
                    }
                    catch (JsonException)
                    {
                        // A scope string that is not JSON is an ordinary OAuth scope: no Pauldron permissions in it.
                    }
                }

                return new IntrospectionResponse(true, exp, iat, JsonSerializer.Serialize(permissions));
            }
            finally
            {
                scopeDoc?.Dispose();
            }
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
