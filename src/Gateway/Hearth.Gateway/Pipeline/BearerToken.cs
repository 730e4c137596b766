using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Pipeline;

internal enum BearerTokenStatus
{
    Present,
    Missing,
    Malformed,
}

/// <summary>
/// Reads an access token from the Authorization header (scheme case-insensitive): an RFC 6750
/// bearer token, or, where the caller takes them, a DPoP-bound one (<c>DPoP</c> scheme, RFC 9449
/// §7.1; the same token syntax).
/// </summary>
internal static class BearerToken
{
    public const int MaxLength = 8192;

    // RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    public static BearerTokenStatus Read(StringValues headers, out string token) => Read(headers, acceptDpop: false, out token, out _);

    /// <summary>As <see cref="Read(StringValues, out string)"/>; with <paramref name="acceptDpop"/> the <c>DPoP</c> scheme too (<paramref name="dpop"/> says which).</summary>
    public static BearerTokenStatus Read(StringValues headers, bool acceptDpop, out string token, out bool dpop)
    {
        token = "";
        dpop = false;
        if (headers.Count == 0)
        {
            return BearerTokenStatus.Missing;
        }

        if (headers.Count > 1)
        {
            return BearerTokenStatus.Malformed;
        }

        var value = headers[0] ?? "";
        if (value.Length == 0)
        {
            return BearerTokenStatus.Missing;
        }

        const string bearer = "Bearer ";
        const string dpopScheme = "DPoP ";
        var schemeLength = value.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? bearer.Length
            : acceptDpop && value.StartsWith(dpopScheme, StringComparison.OrdinalIgnoreCase) ? dpopScheme.Length
            : -1;
        if (schemeLength < 0 || value.Length <= schemeLength || value.Length > MaxLength)
        {
            return BearerTokenStatus.Malformed;
        }

        dpop = schemeLength == dpopScheme.Length;
        var candidate = value[schemeLength..].Trim(' ');
        var body = candidate.TrimEnd('=');
        if (body.Length == 0 || body.AsSpan().ContainsAnyExcept(TokenChars))
        {
            return BearerTokenStatus.Malformed;
        }

        token = candidate;
        return BearerTokenStatus.Present;
    }
}
