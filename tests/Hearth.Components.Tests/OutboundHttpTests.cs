using System.Net;
using System.Net.Sockets;
using Hearth.ServiceDefaults;

namespace Hearth.Components.Tests;

/// <summary>The development FHIR server, alone: the server every outbound call is tried against.</summary>
public sealed class FhirServerFixture : IAsyncLifetime
{
    private NodeServer? _server;

    public string FhirBase => _server!.BaseUrl;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    public DevFhirServerClient Fhir => new(Http, FhirBase);

    public async Task InitializeAsync() => _server = await NodeServer.StartAsync("deploy/fhir-server/server.js");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Http.Dispose();
    }
}

/// <summary>
/// The one outbound HTTP helper against the real development FHIR server and its faults: every
/// failure is one <see cref="OutboundFailure"/>, the body is read only when wanted and never beyond
/// its bound, and the caller's own cancellation stays a cancellation.
/// </summary>
public sealed class OutboundHttpTests(FhirServerFixture server) : IClassFixture<FhirServerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private Task<OutboundAnswer> GetAsync(string url, TimeSpan timeout, int maxBytes = 1 << 20, CancellationToken cancellationToken = default)
        => OutboundHttp.SendAsync(server.Http, new HttpRequestMessage(HttpMethod.Get, url), timeout, maxBytes, status => status == HttpStatusCode.OK, cancellationToken);

    [Fact]
    public async Task Ok_BodyRead()
    {
        var answer = await GetAsync(server.FhirBase + "/Patient/p01", Timeout);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains("\"p01\"", System.Text.Encoding.UTF8.GetString(answer.Body!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnwantedStatus_BodyNotRead()
    {
        var answer = await GetAsync(server.FhirBase + "/Patient/no-such-patient", Timeout);
        Assert.Equal((HttpStatusCode.NotFound, (byte[]?)null), (answer.Status, answer.Body));
    }

    [Fact]
    public async Task Unreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var e = await Assert.ThrowsAsync<OutboundException>(() => GetAsync($"http://127.0.0.1:{port}/fhir/Patient/p01", Timeout));
        Assert.Equal(OutboundFailure.Unreachable, e.Failure);
    }

    [Fact]
    public async Task Slow_TimedOut()
    {
        await server.Fhir.FaultAsync("slow");
        var e = await Assert.ThrowsAsync<OutboundException>(() => GetAsync(server.FhirBase + "/Patient/p01", TimeSpan.FromMilliseconds(300)));
        Assert.Equal(OutboundFailure.TimedOut, e.Failure);
    }

    [Fact]
    public async Task CallerCancels_StaysACancellation()
    {
        await server.Fhir.FaultAsync("slow");
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GetAsync(server.FhirBase + "/Patient/p01", Timeout, cancellationToken: caller.Token));
    }

    [Fact]
    public async Task Truncated_CutOff()
    {
        await server.Fhir.FaultAsync("truncate");
        var e = await Assert.ThrowsAsync<OutboundException>(() => GetAsync(server.FhirBase + "/Patient/p01", Timeout));
        Assert.Equal(OutboundFailure.CutOff, e.Failure);
    }

    [Fact]
    public async Task LargerThanTheBound_TooLarge()
    {
        var e = await Assert.ThrowsAsync<OutboundException>(() => GetAsync(server.FhirBase + "/Patient/p01", Timeout, maxBytes: 16));
        Assert.Equal(OutboundFailure.TooLarge, e.Failure);
    }

    [Fact]
    public async Task StreamedBody_CutOff_MapsToCutOff()
    {
        await server.Fhir.FaultAsync("truncate");
        using var idle = new CancellationTokenSource(Timeout);
        using var response = await OutboundHttp.SendForStreamAsync(server.Http, new HttpRequestMessage(HttpMethod.Get, server.FhirBase + "/Patient/p01"), idle.Token, CancellationToken.None);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var thrown = await Record.ExceptionAsync(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(OutboundFailure.CutOff, OutboundHttp.Map(thrown!, CancellationToken.None)?.Failure);
    }

    /// <summary>The bounded reader: the announced length read in place, more or less than announced, pooled growth, the bound.</summary>
    [Theory]
    [InlineData(0, null, 100)]
    [InlineData(10, 10L, 100)]
    [InlineData(40_000, 40_000L, 1 << 20)]
    [InlineData(40_000, null, 1 << 20)]
    [InlineData(40_000, 100L, 1 << 20)]
    [InlineData(100, 40_000L, 1 << 20)]
    public async Task ReadAtMost_ReadsTheWholeStream(int size, long? announced, int maxBytes)
    {
        var data = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
        var read = await OutboundHttp.ReadAtMostAsync(new TrickleStream(data), maxBytes, CancellationToken.None, announced);
        Assert.Equal(data, read);
    }

    [Theory]
    [InlineData(101, null)]
    [InlineData(101, 101L)]
    [InlineData(40_000, 10L)]
    public async Task ReadAtMost_LongerThanTheBound_Null(int size, long? announced)
    {
        var read = await OutboundHttp.ReadAtMostAsync(new TrickleStream(new byte[size]), size == 101 ? 100 : 30_000, CancellationToken.None, announced);
        Assert.Null(read);
    }

    /// <summary>The rented form (the FHIR server's answers): the same bytes, in a pooled array the caller returns.</summary>
    [Theory]
    [InlineData(0, null)]
    [InlineData(10, 10L)]
    [InlineData(40_000, 40_000L)]
    [InlineData(40_000, null)]
    [InlineData(40_000, 100L)]
    [InlineData(100, 40_000L)]
    public async Task ReadRentedAtMost_ReadsTheWholeStream(int size, long? announced)
    {
        var data = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
        var read = await OutboundHttp.ReadRentedAtMostAsync(new TrickleStream(data), 1 << 20, CancellationToken.None, announced);
        Assert.NotNull(read);
        Assert.Equal(data, read.Value.Rented.AsSpan(0, read.Value.Length).ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(read.Value.Rented);
        Assert.Null(await OutboundHttp.ReadRentedAtMostAsync(new TrickleStream(new byte[size + 1]), size, CancellationToken.None, announced));
    }

    /// <summary>A stream that gives at most 1,000 bytes per read, as a network does.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);
    }
}
