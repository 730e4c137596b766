using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.Formats;

/// <summary>Reads NDJSON as it streams: one non-empty line at a time (without its line break), never more than one line held beyond the read buffer.</summary>
internal static class NdjsonLines
{
    /// <exception cref="UpstreamException">A line is longer than <paramref name="maxLineBytes"/>.</exception>
    public static async IAsyncEnumerable<byte[]> ReadAsync(Stream stream, int maxLineBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            var lines = new List<byte[]>();
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    Add(lines, buffer.Slice(0, end), maxLineBytes);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                if (buffer.Length > maxLineBytes + 1)
                {
                    throw TooLong(); // the line not ended yet (room left for its "\r"): no need to read on
                }

                if (result.IsCompleted)
                {
                    Add(lines, buffer, maxLineBytes);
                    reader.AdvanceTo(buffer.End);
                }
                else
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }

                foreach (var line in lines)
                {
                    yield return line;
                }

                lines.Clear();
                if (result.IsCompleted)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static UpstreamException TooLong() => new("A line of the export file is too long to authorize.");

    /// <summary>A line read whole in one read is held to the bound as well as one still arriving.</summary>
    private static void Add(List<byte[]> lines, ReadOnlySequence<byte> line, int maxLineBytes)
    {
        var length = line.Length > 0 && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r' ? line.Length - 1 : line.Length;
        if (length > maxLineBytes)
        {
            throw TooLong();
        }

        if (length > 0)
        {
            lines.Add(line.Slice(0, length).ToArray());
        }
    }
}
