using System.Diagnostics;
using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using OpenTelemetry.Trace;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// One request is one trace (spans kept in memory by OpenTelemetry's in-memory exporter, tracing
/// on as with OTEL_EXPORTER_OTLP_ENDPOINT): the gateway's server span, its decision span with the
/// outcome, the grain calls into the (embedded) silo, the introspection and the Patient read it
/// made, and the forwarded request, which carries the trace to the FHIR server as W3C traceparent.
/// No token, key or query value in any span.
/// </summary>
[Collection(HearthCollection.Name)]
public class TracingTests(HearthEnvironment env)
{
    [Fact]
    public async Task OneRequest_OneConnectedTrace_NoSecrets()
    {
        var spans = new List<Activity>();
        await using var gateway = await env.StartGatewayAsync(services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")); // tracing on; nothing listens there, the spans are read here
        var token = await env.TokenAsync("[" + Permission("10003", "Observation", labels: Labels("N")) + "]");
        using (var read = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1?_elements=status", token))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        var traceparent = (await env.Fhir.LastHeadersAsync()).GetProperty("traceparent").GetString()!;
        await Task.Delay(500); // the last spans end as the response completes
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore");
        var trace = spans.Where(s => s.TraceId == server.TraceId).ToList();

        var decision = Assert.Single(trace, s => s.OperationName == "hearth.decision");
        Assert.Equal("permit", decision.GetTagItem("hearth.decision"));
        Assert.Equal("read", decision.GetTagItem("hearth.interaction"));
        Assert.Equal(server.SpanId, decision.ParentSpanId);
        Assert.Contains(trace, s => s.Source.Name == "Microsoft.Orleans.Application"); // the grain calls, in the same trace
        var outbound = trace.Where(s => s.Kind == ActivityKind.Client && s.Source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal)).ToList();
        Assert.True(outbound.Count >= 3, $"{outbound.Count} outbound HTTP spans: introspection, the Patient read and the forwarded request expected");
        Assert.Contains(server.TraceId.ToHexString(), traceparent, StringComparison.Ordinal); // the FHIR server got the trace

        AssertNoSecrets(trace, token);
    }

    /// <summary>
    /// Cluster mode (a real Redis and silo process, both tracing): the request the gateway forwards
    /// and the Patient read the silo makes for it reach the FHIR server in the same trace: it went
    /// from the gateway into the other process and on.
    /// </summary>
    [Fact]
    public async Task ClusterMode_TheTraceCrossesIntoTheSiloAndOn()
    {
        var (redis, redisPort) = await RedisServer.StartAsync();
        await using var _ = redis;
        var (cluster, silo) = await env.StartClusterSiloAsync(redisPort, [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")]); // tracing on in both processes; nothing listens there
        await using var __ = silo;
        await using var gateway = await env.StartGatewayAsync(cluster);
        var token = await env.TokenAsync("[" + Permission("10016", "Observation") + "]");
        var status = await ReadOnceClusterAnswersAsync(gateway, "Observation/obs-16-1", token); // p16: read by no other test of this class
        Assert.Equal(HttpStatusCode.OK, status);
        var recent = await env.Fhir.RecentRequestsAsync();
        var forwarded = recent.Last(r => r.Url == "/Observation/obs-16-1");
        var patientRead = recent.Last(r => r.Url.StartsWith("/Patient/p16", StringComparison.Ordinal));
        Assert.NotNull(forwarded.Traceparent);
        Assert.NotNull(patientRead.Traceparent);
        Assert.Equal(forwarded.Traceparent!.Split('-')[1], patientRead.Traceparent!.Split('-')[1]); // one trace id
    }

    private static void AssertNoSecrets(IEnumerable<Activity> trace, string token)
    {
        foreach (var span in trace)
        {
            foreach (var (key, value) in span.TagObjects)
            {
                var text = value?.ToString() ?? "";
                Assert.DoesNotContain(token, text, StringComparison.Ordinal);
                Assert.DoesNotContain(ApiKey, text, StringComparison.Ordinal);
                Assert.DoesNotContain("_elements=status", text, StringComparison.Ordinal); // query strings stay redacted
                Assert.DoesNotContain("10003", text, StringComparison.Ordinal); // p03's identifier value (the token's grant names it)
            }
        }
    }
}
