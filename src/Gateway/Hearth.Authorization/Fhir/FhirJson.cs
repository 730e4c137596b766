using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// How Hearth reads JSON it must judge: strictly (a duplicated property could make two readers
/// disagree), and only as valid Unicode. A client's JSON that is not valid Unicode is refused
/// (<see cref="IsValidUnicode"/>); what the FHIR server already holds is made valid before it is
/// read (<see cref="Sanitize(byte[])"/>), so one bad resource never breaks anyone else's answer.
/// </summary>
public static class FhirJson
{
    public static JsonDocumentOptions DocumentOptions { get; } = new() { AllowDuplicateProperties = false, MaxDepth = 128 };

    /// <summary>
    /// How Hearth writes JSON: characters as they are, escaped only where JSON requires it (quotes,
    /// backslashes, control characters), not <c>\u002B</c> for "+" or <c>\u0026</c> for "&amp;" as
    /// the default HTML-safe encoder does. FHIR JSON is never embedded in HTML by Hearth.
    /// </summary>
    public static JsonSerializerOptions Output { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><see cref="Output"/>'s encoder for a <see cref="Utf8JsonWriter"/>.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads JSON strictly; null when it is not JSON (or breaks the rules above).</summary>
    public static JsonNode? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonNode.Parse(utf8, documentOptions: DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Like <see cref="TryParse(ReadOnlySpan{byte})"/>, over the bytes as they are (no copy; the caller keeps them unchanged while the document lives).</summary>
    public static JsonDocument? TryParseDocument(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            return JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte})"/>
    public static JsonNode? TryParse(string json)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>How many bytes <paramref name="node"/> takes as compact JSON (written to nowhere, counted).</summary>
    public static long Utf8Length(JsonNode node)
    {
        using var counter = new CountingStream();
        using (var writer = new Utf8JsonWriter(counter, WriterOptions))
        {
            node.WriteTo(writer);
        }

        return counter.Length;
    }

    /// <summary>
    /// True when the bytes are valid UTF-8 and no <c>\uXXXX</c> escape stands for half a surrogate
    /// pair: every string in them can be read and written again.
    /// </summary>
    public static bool IsValidUnicode(ReadOnlySpan<byte> utf8) => Utf8.IsValid(utf8) && NextUnfitEscape(utf8, 0, controls: false, out _) < 0;

    /// <summary>
    /// The FHIR server's bytes made safe to read and to write again as JSON or XML: invalid UTF-8
    /// sequences, escapes of lone surrogates, and escapes of control characters FHIR strings may
    /// not hold (all below U+0020 but tab, line feed and carriage return; XML cannot carry them)
    /// become U+FFFD. The same array when nothing needed replacing.
    /// </summary>
    /// <summary>True when <see cref="Sanitize"/> would change nothing: valid UTF-8 without an unfit escape.</summary>
    public static bool IsFit(ReadOnlySpan<byte> utf8) => Utf8.IsValid(utf8) && NextUnfitEscape(utf8, 0, controls: true, out _) < 0;

    public static byte[] Sanitize(byte[] utf8)
    {
        var valid = Utf8.IsValid(utf8);
        if (valid && NextUnfitEscape(utf8, 0, controls: true, out _) < 0)
        {
            return utf8;
        }

        var source = valid ? utf8 : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8));
        var result = new MemoryStream(source.Length + 16);
        var copied = 0;
        for (var i = NextUnfitEscape(source, 0, controls: true, out var length); i >= 0; i = NextUnfitEscape(source, copied, controls: true, out length))
        {
            result.Write(source, copied, i - copied);
            result.Write("\\ufffd"u8);
            copied = i + length;
        }

        result.Write(source, copied, source.Length - copied);
        return result.ToArray();
    }

    /// <summary>
    /// Where the next escape that must not be read as it is starts, at or after
    /// <paramref name="start"/> (-1 when there is none), and its length: a <c>\uD800</c>-<c>\uDFFF</c>
    /// escape that is not part of a high-low pair, and with <paramref name="controls"/> an escaped
    /// control character other than tab, line feed and carriage return. Backslashes occur in JSON
    /// only in strings, where each one starts an escape, so escapes are read in order.
    /// </summary>
    private static int NextUnfitEscape(ReadOnlySpan<byte> utf8, int start, bool controls, out int length)
    {
        length = 0;
        var i = start;
        while (i < utf8.Length)
        {
            var found = utf8[i..].IndexOf((byte)'\\');
            if (found < 0)
            {
                return -1;
            }

            i += found;
            if (i + 1 >= utf8.Length || utf8[i + 1] != (byte)'u')
            {
                if (controls && i + 1 < utf8.Length && utf8[i + 1] is (byte)'b' or (byte)'f')
                {
                    length = 2;
                    return i;
                }

                i += 2; // a two-character escape such as \" or \\
                continue;
            }

            if (!TryHex(utf8, i + 2, out var unit))
            {
                i += 2;
                continue;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 12 <= utf8.Length && utf8[i + 6] == (byte)'\\' && utf8[i + 7] == (byte)'u'
                    && TryHex(utf8, i + 8, out var low) && low is >= 0xDC00 and <= 0xDFFF)
                {
                    i += 12;
                    continue;
                }

                length = 6;
                return i;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF || (controls && unit < 0x20 && unit is not (0x09 or 0x0A or 0x0D)))
            {
                length = 6;
                return i;
            }

            i += 6;
        }

        return -1;
    }

    private static bool TryHex(ReadOnlySpan<byte> utf8, int start, out int value)
    {
        value = 0;
        if (start + 4 > utf8.Length)
        {
            return false;
        }

        for (var i = start; i < start + 4; i++)
        {
            var digit = HexValue(utf8[i]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    /// <summary>A write-only stream that only counts what is written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
