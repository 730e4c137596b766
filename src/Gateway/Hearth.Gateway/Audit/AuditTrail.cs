using System.Threading.Channels;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Audit;

/// <summary>
/// The audit trail's buffer: every decided request leaves one record here (serialised at once,
/// so nothing of the request is kept), and <see cref="AuditWriter"/> writes them out. Requests
/// never wait for the writer: when HEARTH_AUDIT_BUFFER records are waiting, a new one is dropped
/// and counted (<c>hearth.audit.dropped</c>, and one log line per interval).
/// </summary>
internal sealed class AuditTrail(GatewaySettings settings, TimeProvider time)
{
    private readonly Channel<byte[]> _records = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(settings.AuditBuffer) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });

    private long _dropped;

    public ChannelReader<byte[]> Records => _records.Reader;

    public void Record(HttpContext context, FhirRequest? request, RequestState? state, Refusal? refusal, string decision)
    {
        var record = AuditRecords.Serialize(context, request, state, refusal, decision, time.GetUtcNow());
        if (!_records.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _dropped);
            HearthTelemetry.AuditDropped.Add(1);
        }
    }

    /// <summary>The records dropped since the last call.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>No record is taken after this (shutting down): the writer drains what is left.</summary>
    public void Complete() => _records.Writer.TryComplete();
}
