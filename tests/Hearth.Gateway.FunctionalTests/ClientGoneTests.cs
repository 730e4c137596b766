using System.Net;
using System.Net.Sockets;
using System.Text;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A client that goes away while the gateway writes a judged answer: the connection is cut, nothing
/// is thrown out of the response transform (YARP would then clear a started response, an unhandled
/// exception with its stack trace in the log), the audit trail records it, and the gateway goes on
/// serving.
/// </summary>
[Collection(HearthCollection.Name)]
public class ClientGoneTests(HearthEnvironment env)
{
    [Fact]
    public async Task ClientGoesAwayWhileALargeAnswerIsWritten_CutQuietly_Audited_StillServes()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using var gateway = await env.StartGatewayAsync(("HEARTH_AUDIT_LOG_FILE", file));
            var token = await env.TokenAsync("[" + Permission("*") + "]");
            const string search = "Observation?subject=Patient/p01";
            using (var warm = await gateway.Client.GetWithTokenAsync(search, token))
            {
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // the patient is resolved and cached
            }

            // ~45 MB: more than the loopback socket buffers hold, so writing it waits for this client.
            await env.FhirFaultAsync("large:80000");
            using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 })
            {
                await socket.ConnectAsync(IPAddress.Loopback, new Uri(gateway.BaseUrl).Port);
                await socket.SendAsync(Encoding.ASCII.GetBytes(
                    $"GET /{search} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"));
                var buffer = new byte[1024];
                var read = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
                await Task.Delay(200); // the gateway is still writing, waiting for this client to read
                socket.LingerState = new LingerOption(true, 0); // closed with a reset, the rest unread
            }

            var records = await AuditTrailTests.RecordsAsync(file, 2);
            // Error when the gateway saw the write fail or the client gone; Kestrel can also finish a
            // write to a reset connection without an error, and then the gateway has handed over all of it.
            Assert.Contains(records[1]["decision"]!.GetValue<string>(), new[] { "error", "permit" });
            Assert.Equal(("search-type", 200), (records[1]["interaction"]!.GetValue<string>(), records[1]["status"]!.GetValue<int>()));

            using var after = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token);
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.DoesNotContain(gateway.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
