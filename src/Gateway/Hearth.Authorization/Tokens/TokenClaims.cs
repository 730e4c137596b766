using System.Text.Json;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tokens;

/// <summary>
/// What Hearth reads of a token's claims, from an introspection answer or a JWT's payload alike:
/// Pauldron permissions (<c>permissions</c>, or a JSON array in <c>scope</c>), SMART scopes
/// (<c>scope</c>, a space-separated string; <c>scp</c>, a string or an array, as Entra ID and Okta
/// write it), the patient in context (<c>patient</c>, a logical id), and who asks (<c>sub</c>;
/// the client: <c>client_id</c>, else <c>azp</c>, <c>cid</c>, <c>appid</c>; the user's FHIR
/// resource: <c>fhirUser</c>), and why (<c>purpose_of_use</c>, as SMART and IHE IUA write it:
/// <c>ihe_iua.purpose_of_use</c>, also under <c>extensions</c>; codes of v3-ActReason).
/// </summary>
public sealed record TokenClaims(string PermissionsJson, IReadOnlyList<string> Scopes, string? Patient, string? Subject, string? ClientId)
{
    /// <summary>What the token is bound to (<c>cnf</c>): a DPoP key, a client certificate, or nothing.</summary>
    public TokenBinding Binding { get; init; } = TokenBinding.None;

    /// <summary>The purposes of use the token states (v3-ActReason codes, such as TREAT or BTG), at most <see cref="MaxPurposes"/>.</summary>
    public IReadOnlyList<string> PurposeOfUse { get; init; } = [];

    /// <summary>The <c>fhirUser</c> claim: the user's FHIR resource (<c>Practitioner/123</c>, or an absolute URL).</summary>
    public string? FhirUser { get; init; }

    /// <summary>
    /// The organization the user acts for, as IHE IUA writes it (<c>ihe_iua.subject_organization_id</c>,
    /// at the top or under <c>extensions</c>): an identifier (such as <c>urn:oid:…</c>) or a reference
    /// (<c>Organization/…</c>). What a Consent's <c>actor</c> naming an organization matches.
    /// </summary>
    public string? Organization { get; init; }

    /// <summary>The code system of purposes of use.</summary>
    public const string ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

    public const int MaxPurposes = 16;

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
                PurposeOfUse = Purposes(root),
                FhirUser = Text(root, "fhirUser"),
                Organization = Iua(root, "subject_organization_id"),
            };
        }
        finally
        {
            scopeDoc?.Dispose();
        }
    }

    /// <summary>
    /// The purposes of use: <c>purpose_of_use</c> (a code, codes separated by spaces, an array of
    /// codes or of Codings), and <c>ihe_iua.purpose_of_use</c> (Codings; at the top or under
    /// <c>extensions</c>). A Coding of another system than v3-ActReason, or a code that is not a
    /// plain token, is not a purpose Hearth knows and is left out.
    /// </summary>
    private static List<string> Purposes(JsonElement root)
    {
        var purposes = new List<string>();
        if (root.TryGetProperty("purpose_of_use", out var claim))
        {
            Add(claim);
        }

        foreach (var container in new[] { root, root.TryGetProperty("extensions", out var extensions) ? extensions : default })
        {
            if (container.ValueKind == JsonValueKind.Object && container.TryGetProperty("ihe_iua", out var iua) && iua.ValueKind == JsonValueKind.Object
                && iua.TryGetProperty("purpose_of_use", out var iuaPurposes))
            {
                Add(iuaPurposes);
            }
        }

        return purposes.Distinct(StringComparer.Ordinal).Take(MaxPurposes).ToList();

        void Add(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    purposes.AddRange(Split(value.GetString()!).Where(IsCode));
                    break;
                case JsonValueKind.Array:
                    foreach (var item in value.EnumerateArray().Take(MaxPurposes))
                    {
                        Add(item);
                    }

                    break;
                case JsonValueKind.Object when (!value.TryGetProperty("system", out var system) || (system.ValueKind == JsonValueKind.String && system.GetString() == ActReason))
                    && value.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String && IsCode(code.GetString()!):
                    purposes.Add(code.GetString()!);
                    break;
            }
        }
    }

    /// <summary>A string member of the token's <c>ihe_iua</c> object (at the top, else under <c>extensions</c>).</summary>
    private static string? Iua(JsonElement root, string name)
    {
        foreach (var container in new[] { root, root.TryGetProperty("extensions", out var extensions) ? extensions : default })
        {
            if (container.ValueKind == JsonValueKind.Object && container.TryGetProperty("ihe_iua", out var iua) && iua.ValueKind == JsonValueKind.Object
                && Text(iua, name) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    private static bool IsCode(string code) => code.Length is > 0 and <= 64 && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

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
