using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Responses;

/// <summary>
/// What judging takes out of a Bundle: the entries not kept, <c>total</c>, the links that count.
/// Applied by writing the Bundle again from the FHIR server's own bytes (<see cref="Write"/>: kept
/// entries are copied as they are, nothing re-serialised), or to the parsed tree (<see cref="ApplyTo"/>)
/// when more must change (labels, subsetting, a batch answer).
/// </summary>
/// <param name="KeepEntry">Per entry, in order: kept.</param>
/// <param name="DropEntry">No entry is kept: the Bundle has no <c>entry</c> element at all.</param>
/// <param name="DropTotal"><c>total</c> would count what is hidden.</param>
/// <param name="KeepLink">Per link, in order: kept (null: every link kept).</param>
public sealed record BundleEdit(bool[] KeepEntry, bool DropEntry, bool DropTotal, bool[]? KeepLink)
{
    /// <summary>Writes the edited Bundle as compact JSON from the bytes <paramref name="document"/> was parsed from.</summary>
    public void Write(JsonDocument document, IBufferWriter<byte> output) => Write(document, new BufferSink(output));

    /// <summary>
    /// Writes the edited Bundle to <paramref name="output"/> in pieces, each a whole JSON token or
    /// value of the FHIR server's (so a URL never spans two pieces): written as they come, the
    /// Bundle needs no buffer of its own.
    /// </summary>
    public void Write(JsonDocument document, IJsonSink output)
    {
        var first = true;
        output.Write("{"u8);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if ((DropTotal && property.NameEquals("total"u8)) || (DropEntry && property.NameEquals("entry"u8)))
            {
                continue;
            }

            output.Write(first ? "\""u8 : ",\""u8);
            first = false;
            output.Write(JsonMarshal.GetRawUtf8PropertyName(property));
            output.Write("\":"u8);
            var keep = property.NameEquals("entry"u8) ? KeepEntry : property.NameEquals("link"u8) ? KeepLink : null;
            if (keep is null || property.Value.ValueKind != JsonValueKind.Array)
            {
                output.Write(JsonMarshal.GetRawUtf8Value(property.Value));
                continue;
            }

            WriteKept(property.Value, keep, output);
        }

        output.Write("}"u8);
    }

    /// <summary>The edited Bundle as text (tests, and callers without a byte writer).</summary>
    public string ToJson(ParsedResponse response)
    {
        if (response.Document is { } document)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Write(document, buffer);
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        return ApplyTo(response.Root).ToJsonString(FhirJson.Output);
    }

    /// <summary>Edits the parsed tree in place (and returns it).</summary>
    public JsonObject ApplyTo(JsonObject root)
    {
        if (root["entry"] is JsonArray entries && !DropEntry && KeepEntry.Any(k => !k))
        {
            var kept = entries.Where((_, i) => i < KeepEntry.Length && KeepEntry[i]).Select(e => e?.DeepClone()).ToList();
            entries.Clear();
            foreach (var entry in kept)
            {
                entries.Add(entry);
            }
        }

        if (DropEntry)
        {
            root.Remove("entry");
        }

        if (DropTotal)
        {
            root.Remove("total");
        }

        if (KeepLink is not null && root["link"] is JsonArray links)
        {
            var all = links.ToList();
            for (var i = 0; i < all.Count; i++)
            {
                if (i >= KeepLink.Length || !KeepLink[i])
                {
                    links.Remove(all[i]);
                }
            }
        }

        return root;
    }

    private static void WriteKept(JsonElement array, bool[] keep, IJsonSink output)
    {
        output.Write("["u8);
        var index = 0;
        var first = true;
        foreach (var item in array.EnumerateArray())
        {
            if (index < keep.Length && keep[index])
            {
                output.Write(first ? ReadOnlySpan<byte>.Empty : ","u8);
                first = false;
                output.Write(JsonMarshal.GetRawUtf8Value(item));
            }

            index++;
        }

        output.Write("]"u8);
    }
}

/// <summary>Where <see cref="BundleEdit.Write(JsonDocument, IJsonSink)"/> puts the pieces of the Bundle it writes.</summary>
public interface IJsonSink
{
    void Write(ReadOnlySpan<byte> utf8);
}

/// <summary>The pieces, as they are, into a buffer.</summary>
public sealed class BufferSink(IBufferWriter<byte> output) : IJsonSink
{
    public void Write(ReadOnlySpan<byte> utf8) => output.Write(utf8);
}
