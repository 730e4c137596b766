using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Pipeline;

internal enum BearerTokenStatus
{
    Present,
    Missing,
    Malformed,
}

/// <summary>Reads an RFC 6750 bearer token from the Authorization header (scheme case-insensitive).</summary>
internal static class BearerToken
{
    public const int MaxLength = 8192;

    // RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    public static BearerTokenStatus Read(StringValues headers, out string token)
    {
        token = "";
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

        const string scheme = "Bearer ";
        if (value.Length <= scheme.Length || !value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || value.Length > MaxLength)
        {
            return BearerTokenStatus.Malformed;
        }

        var candidate = value[scheme.Length..].Trim(' ');
        var body = candidate.TrimEnd('=');
        if (body.Length == 0 || body.AsSpan().ContainsAnyExcept(TokenChars))
        {
            return BearerTokenStatus.Malformed;
        }

        token = candidate;
        return BearerTokenStatus.Present;
    }
}
