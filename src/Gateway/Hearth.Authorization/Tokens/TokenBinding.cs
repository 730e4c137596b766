using System.Text.Json;

namespace Hearth.Authorization.Tokens;

/// <summary>
/// What a token is bound to (its <c>cnf</c> claim, RFC 7800), read alike from a JWT and from an
/// introspection answer: a DPoP key by its RFC 7638 thumbprint (<c>jkt</c>, RFC 9449) and/or a
/// client certificate by its SHA-256 thumbprint (<c>x5t#S256</c>, RFC 8705). A <c>cnf</c> that is
/// not an object, or that names only methods Hearth cannot check (<c>jwk</c>, <c>kid</c>,
/// <c>jku</c>...), or whose members are not well-formed thumbprints, is <see cref="Unusable"/>:
/// such a token is refused, never served as an unbound one.
/// </summary>
public sealed record TokenBinding(string? Jkt, string? CertificateThumbprint, bool Unusable = false)
{
    /// <summary>An unbound token (no <c>cnf</c>): a plain bearer token.</summary>
    public static TokenBinding None { get; } = new(null, null);

    public bool IsBound => Jkt is not null || CertificateThumbprint is not null || Unusable;

    /// <summary>The binding of a token whose claims are <paramref name="root"/>.</summary>
    public static TokenBinding Read(JsonElement root)
    {
        if (!root.TryGetProperty("cnf", out var cnf))
        {
            return None;
        }

        if (cnf.ValueKind != JsonValueKind.Object)
        {
            return new TokenBinding(null, null, Unusable: true);
        }

        string? jkt = null, x5t = null;
        var unusable = false;
        var members = 0;
        foreach (var member in cnf.EnumerateObject())
        {
            members++;
            switch (member.Name)
            {
                case "jkt":
                    jkt = Thumbprint(member.Value);
                    unusable |= jkt is null;
                    break;
                case "x5t#S256":
                    x5t = Thumbprint(member.Value);
                    unusable |= x5t is null;
                    break;
            }
        }

        // A cnf with no method Hearth checks (an empty one, or jwk/kid/jku only) binds the token to something unverifiable.
        unusable |= jkt is null && x5t is null;
        return members == 0 && !unusable ? None : new TokenBinding(jkt, x5t, unusable);
    }

    /// <summary>A SHA-256 thumbprint, base64url without padding: 43 characters of the base64url alphabet.</summary>
    private static string? Thumbprint(JsonElement value)
        => value.ValueKind == JsonValueKind.String && value.GetString() is { Length: 43 } text
           && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? text
            : null;
}
