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
                    Add(lines, buffer.Slice(0, end));
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                if (buffer.Length > maxLineBytes)
                {
                    throw new UpstreamException("A line of the export file is too long to authorize.");
                }

                if (result.IsCompleted)
                {
                    Add(lines, buffer);
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

    private static void Add(List<byte[]> lines, ReadOnlySequence<byte> line)
    {
        var bytes = line.ToArray();
        var length = bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes.Length - 1 : bytes.Length;
        if (length > 0)
        {
            lines.Add(length == bytes.Length ? bytes : bytes[..length]);
        }
    }
}
