using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// Short strings read from answers again and again (resource types, label systems and codes,
/// patient references, search modes), each made once: a warm gateway reads them without
/// allocating. Bounded: beyond <see cref="MaxEntries"/> distinct values, strings are made as usual,
/// so a stream of new values costs what it did without this, never unbounded memory.
/// </summary>
internal static class Utf8Strings
{
    public const int MaxEntries = 50_000;
    private const int MaxChars = 128;

    private static readonly ConcurrentDictionary<string, string> Seen = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup = Seen.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The string value of <paramref name="element"/> (which must be a JSON string).</summary>
    public static string Get(JsonElement element)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length > MaxChars + 2 || raw.IndexOf((byte)'\\') >= 0)
        {
            return element.GetString()!; // long, or with escapes: read as usual
        }

        Span<char> chars = stackalloc char[MaxChars];
        var length = Encoding.UTF8.GetChars(raw[1..^1], chars);
        if (Lookup.TryGetValue(chars[..length], out var known))
        {
            return known;
        }

        var made = new string(chars[..length]);
        return Seen.Count < MaxEntries ? Seen.GetOrAdd(made, made) : made;
    }
}
