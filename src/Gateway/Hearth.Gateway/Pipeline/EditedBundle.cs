using System.Buffers;
using System.Text.Json;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// A judged Bundle that is written from the FHIR server's bytes as it is sent (<see cref="BundleEdit"/>):
/// no copy of it is made. Its length is counted first (Content-Length), then each piece goes out
/// with the FHIR server's base replaced by the gateway's.
/// </summary>
internal sealed record EditedBundle(JsonDocument Document, BundleEdit Edit)
{
    public long Length(byte[] from, byte[] to)
    {
        var counter = new CountingSink(from, to);
        Edit.Write(Document, counter);
        return counter.Length;
    }

    public void WriteTo(IBufferWriter<byte> output, byte[] from, byte[] to) => Edit.Write(Document, new RewritingSink(output, from, to));

    /// <summary>The pieces, the base rewritten, into <paramref name="output"/>.</summary>
    private sealed class RewritingSink(IBufferWriter<byte> output, byte[] from, byte[] to) : IJsonSink
    {
        public void Write(ReadOnlySpan<byte> utf8) => UrlRewriter.Rewrite(utf8, from, to, output);
    }

    /// <summary>Counts what <see cref="RewritingSink"/> would write.</summary>
    private sealed class CountingSink(byte[] from, byte[] to) : IJsonSink
    {
        public long Length { get; private set; }

        public void Write(ReadOnlySpan<byte> utf8) => Length += UrlRewriter.RewrittenLength(utf8, from, to);
    }
}
