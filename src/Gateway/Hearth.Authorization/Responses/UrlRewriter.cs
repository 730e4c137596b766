using System.Text;

namespace Hearth.Authorization.Responses;

/// <summary>
/// Replaces the FHIR server's base URL with the gateway's public base wherever it appears as a URL
/// prefix (followed by '/', '?', '#', '"' or the end), so the FHIR server's own address never
/// reaches the client.
/// </summary>
public static class UrlRewriter
{
    public static string Rewrite(string text, string fromBase, string toBase)
    {
        var index = text.IndexOf(fromBase, StringComparison.Ordinal);
        if (index < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 64);
        var start = 0;
        while (index >= 0)
        {
            var end = index + fromBase.Length;
            var boundary = end == text.Length || text[end] is '/' or '?' or '#' or '"' or '\\';
            builder.Append(text, start, index - start);
            builder.Append(boundary ? toBase : fromBase);
            start = end;
            index = text.IndexOf(fromBase, start, StringComparison.Ordinal);
        }

        builder.Append(text, start, text.Length - start);
        return builder.ToString();
    }

    /// <summary>A header value (Location, Content-Location): rewritten when it points under the FHIR base.</summary>
    public static string RewriteHeader(string value, string fromBase, string toBase)
        => value == fromBase || value.StartsWith(fromBase + "/", StringComparison.Ordinal) || value.StartsWith(fromBase + "?", StringComparison.Ordinal)
            ? toBase + value[fromBase.Length..]
            : value;
}
