using System.Text;
using Hearth.Gateway.Formats;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Export files are read line by line as they stream: the size bound is a line's, never the file's,
/// and a line is handed on before the rest of the file has been read.
/// </summary>
public class NdjsonLinesTests
{
    private const int MaxLine = 1024;

    [Fact]
    public async Task FileManyTimesTheBound_EveryLineInOrder_ReadWhileItStreams()
    {
        var lines = Enumerable.Range(0, 4000).Select(i => $"{{\"resourceType\":\"Observation\",\"id\":\"o{i}\",\"note\":\"{new string('x', 200)}\"}}").ToList();
        var text = string.Join("\n", lines.Select((l, i) => i % 3 == 0 ? l + "\r" : l)) + "\n\n"; // CRLF on some, a blank line at the end
        await using var stream = new TrickleStream(Encoding.UTF8.GetBytes(text));
        Assert.True(stream.Length > 800 * MaxLine);

        var read = new List<string>();
        long readWhenFirst = -1;
        await foreach (var line in NdjsonLines.ReadAsync(stream, MaxLine, CancellationToken.None))
        {
            readWhenFirst = readWhenFirst < 0 ? stream.Position : readWhenFirst;
            read.Add(Encoding.UTF8.GetString(line));
        }

        Assert.Equal(lines, read);
        Assert.True(readWhenFirst < 64 * MaxLine, $"{readWhenFirst} of {stream.Length} bytes read before the first line was handed on");
    }

    [Fact]
    public async Task ALineLongerThanTheBound_Refused()
    {
        var text = "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Observation\",\"note\":\"" + new string('x', 2 * MaxLine) + "\"}\n";
        await using var stream = new TrickleStream(Encoding.UTF8.GetBytes(text));
        var read = new List<byte[]>();
        await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var line in NdjsonLines.ReadAsync(stream, MaxLine, CancellationToken.None))
            {
                read.Add(line);
            }
        });
        Assert.True(read.Count <= 1);
    }

    /// <summary>The bound is the line's bytes without its line break, whether the line arrives in one read or in several.</summary>
    [Theory]
    [InlineData(MaxLine, "\n", 4096, true)]
    [InlineData(MaxLine, "\r\n", 4096, true)]
    [InlineData(MaxLine, "\r\n", 257, true)] // a read ends just after the "\r"
    [InlineData(MaxLine, "", 4096, true)]
    [InlineData(MaxLine + 1, "\n", 4096, false)]
    [InlineData(MaxLine + 1, "\r\n", 100, false)]
    [InlineData(MaxLine + 1, "", 4096, false)]
    public async Task TheBound_IsTheLinesOwnLength(int length, string ending, int chunk, bool read)
    {
        var line = "{\"a\":\"" + new string('x', length - 8) + "\"}";
        Assert.Equal(length, line.Length);
        await using var stream = new TrickleStream(Encoding.UTF8.GetBytes("{}\n" + line + ending), chunk);
        var lines = new List<string>();
        async Task ReadAll()
        {
            await foreach (var l in NdjsonLines.ReadAsync(stream, MaxLine, CancellationToken.None))
            {
                lines.Add(Encoding.UTF8.GetString(l));
            }
        }

        if (read)
        {
            await ReadAll();
            Assert.Equal(["{}", line], lines);
        }
        else
        {
            await Assert.ThrowsAsync<UpstreamException>(ReadAll);
        }
    }

    /// <summary>A stream that hands out at most <paramref name="chunk"/> bytes a read, as a network stream does.</summary>
    private sealed class TrickleStream(byte[] bytes, int chunk = 4096) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);
    }
}
