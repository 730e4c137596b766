using System.Text.Json;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;

namespace Hearth.Components.Tests.Grains;

/// <summary>
/// Which failures are the cluster being away (503, logged quietly) and which are Hearth's own bugs
/// (500, logged with their stack): a disposed object is the cluster's only when Orleans' client threw it.
/// </summary>
public sealed class FailuresTests
{
    [Fact]
    public async Task DisposedOrleansClient_IsTheClusterAway_503()
    {
        var cluster = new GrainCluster();
        await cluster.InitializeAsync();
        var grains = cluster.Grains;
        await grains.GetGrain<IPingGrain>(0).PingAsync();
        await cluster.DisposeAsync();

        var thrown = await Assert.ThrowsAsync<ObjectDisposedException>(() => grains.GetGrain<IPingGrain>(1).PingAsync());
        Assert.True(Failures.IsClusterTransient(thrown));
        Assert.True(Failures.IsExpected(thrown));
        Assert.IsType<Refusal.ClusterUnavailable>(Failures.ToRefusal(thrown));
    }

    [Fact]
    public void HearthsOwnDisposedObject_IsABug_500()
    {
        var document = JsonDocument.Parse("""{"resourceType":"Observation"}""");
        document.Dispose();
        var thrown = Assert.Throws<ObjectDisposedException>(() => document.RootElement.GetProperty("resourceType"));

        Assert.False(Failures.IsClusterTransient(thrown));
        Assert.False(Failures.IsExpected(thrown));
        Assert.Equal(500, Failures.ToRefusal(thrown).Status);
    }
}
