using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

[Collection(HearthCollection.Name)]
public class CacheTests(HearthEnvironment env)
{
    [Fact]
    public async Task ManyRequests_OneToken_OneIntrospection()
    {
        var token = await env.TokenAsync("[" + Permission("10001") + "]");
        var before = await env.IntrospectionCountAsync();
        for (var i = 0; i < 25; i++)
        {
            using var response = await env.Gateway.Client.GetWithTokenAsync(i % 2 == 0 ? "Patient/p01" : "Observation?subject=Patient/p01", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(before + 1, await env.IntrospectionCountAsync());
    }

    [Fact]
    public async Task ConcurrentFirstRequests_OneToken_OneIntrospection()
    {
        var token = await env.TokenAsync("[" + Permission("10002") + "]");
        var before = await env.IntrospectionCountAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => env.Gateway.Client.GetWithTokenAsync("Patient/p02", token)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses)
        {
            r.Dispose();
        }

        Assert.Equal(before + 1, await env.IntrospectionCountAsync());
    }

    [Fact]
    public async Task InactiveToken_CachedBriefly_NotReintrospectedEachRequest()
    {
        var before = await env.IntrospectionCountAsync();
        for (var i = 0; i < 5; i++)
        {
            using var response = await env.Gateway.Client.GetWithTokenAsync("Patient/p01", "unknown-token-for-cache-test");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(before + 1, await env.IntrospectionCountAsync());
    }

    [Fact]
    public async Task Search_MEntriesOfPPatients_AtMostPPatientReads_NoneWhenRepeated()
    {
        // A gateway of its own, so that its Patient grains start cold.
        await using var gateway = await env.StartGatewayAsync();
        var token = await env.TokenAsync("[" + Permission("*") + "]");
        var before = await env.FhirCountAsync("GET Patient read");

        using var first = await gateway.Client.GetWithTokenAsync("Observation?_count=45", token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var bundle = await first.JsonAsync();
        var entries = bundle["entry"]!.AsArray();
        var patients = entries.Select(e => e!["resource"]!["subject"]!["reference"]!.GetValue<string>()).Distinct().Count();
        Assert.True(entries.Count >= 40, $"expected a large page, got {entries.Count}");
        Assert.True(patients >= 10 && patients < entries.Count, $"{patients} patients for {entries.Count} entries");

        var reads = await env.FhirCountAsync("GET Patient read") - before;
        Assert.True(reads <= patients, $"{reads} Patient reads for {patients} distinct patients");
        Assert.Equal(patients, reads); // cold cache: each patient fetched exactly once

        using var second = await gateway.Client.GetWithTokenAsync("Observation?_count=45", token);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(reads, await env.FhirCountAsync("GET Patient read") - before);
    }
}
