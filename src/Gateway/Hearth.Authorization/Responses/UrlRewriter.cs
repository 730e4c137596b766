using System.Buffers;
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

    /// <summary>The length of <paramref name="utf8"/> once rewritten (to set Content-Length before writing).</summary>
    public static long RewrittenLength(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> fromBase, ReadOnlySpan<byte> toBase)
    {
        long length = utf8.Length;
        var delta = toBase.Length - fromBase.Length;
        for (var at = NextPrefix(utf8, 0, fromBase); at >= 0; at = NextPrefix(utf8, at + fromBase.Length, fromBase))
        {
            length += delta;
        }

        return length;
    }

    /// <summary>The UTF-8 form of <see cref="Rewrite(string, string, string)"/>, written to <paramref name="output"/> without an intermediate copy.</summary>
    public static void Rewrite(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> fromBase, ReadOnlySpan<byte> toBase, IBufferWriter<byte> output)
    {
        var start = 0;
        for (var at = NextPrefix(utf8, 0, fromBase); at >= 0; at = NextPrefix(utf8, start, fromBase))
        {
            output.Write(utf8[start..at]);
            output.Write(toBase);
            start = at + fromBase.Length;
        }

        output.Write(utf8[start..]);
    }

    /// <summary>The next occurrence of <paramref name="fromBase"/> at or after <paramref name="from"/> that is a URL prefix; -1 when none.</summary>
    private static int NextPrefix(ReadOnlySpan<byte> utf8, int from, ReadOnlySpan<byte> fromBase)
    {
        while (from <= utf8.Length - fromBase.Length)
        {
            var found = utf8[from..].IndexOf(fromBase);
            if (found < 0)
            {
                return -1;
            }

            var at = from + found;
            var end = at + fromBase.Length;
            if (end == utf8.Length || utf8[end] is (byte)'/' or (byte)'?' or (byte)'#' or (byte)'"' or (byte)'\\')
            {
                return at;
            }

            from = end;
        }

        return -1;
    }

    /// <summary>A header value (Location, Content-Location): rewritten when it points under the FHIR base.</summary>
    public static string RewriteHeader(string value, string fromBase, string toBase)
        => value.StartsWith(fromBase, StringComparison.Ordinal) && (value.Length == fromBase.Length || value[fromBase.Length] is '/' or '?')
            ? string.Concat(toBase.AsSpan(), value.AsSpan(fromBase.Length))
            : value;
}
