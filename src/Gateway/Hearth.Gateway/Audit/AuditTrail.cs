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
internal sealed class AuditTrail(HearthSettings hearth, TimeProvider time)
{
    private readonly string? _realm = hearth.AuthorizationServer.UmaMode && hearth.AuthorizationServer.UmaServerRealm.Length > 0 ? hearth.AuthorizationServer.UmaServerRealm : null;

    private static readonly KeyValuePair<string, object?> LogSink = new("sink", "log");
    private static readonly KeyValuePair<string, object?> FhirSink = new("sink", "fhir");

    private readonly AuditQueue _records = new(hearth.Gateway.AuditBuffer);

    /// <summary>With HEARTH_AUDIT_FHIR_BASE: the same records for <see cref="AuditEventSender"/>, buffered apart (a slow audit server never holds up the log).</summary>
    private readonly AuditQueue? _forFhir = hearth.Gateway.AuditFhirBase is null ? null : new(hearth.Gateway.AuditBuffer);

    private long _dropped;

    public AuditQueue Records => _records;

    /// <summary>
    /// Holds a place in every sink's queue for the record of <paramref name="state"/>'s request (a
    /// break-the-glass answer is served only then); false when one is full or shutting down. Its
    /// <see cref="Record"/> fills the places.
    /// </summary>
    public bool TryReserve(RequestState state)
    {
        if (state.AuditReserved)
        {
            return true;
        }

        if (!_records.TryReserve())
        {
            return false;
        }

        if (_forFhir is not null && !_forFhir.TryReserve())
        {
            _records.Release();
            return false;
        }

        return state.AuditReserved = true;
    }

    public AuditQueue? ForFhir => _forFhir;

    public void Record(HttpContext context, FhirRequest? request, RequestState? state, Refusal? refusal, string decision)
    {
        if (state is { AuditReserved: true })
        {
            RecordReserved(context, request, state, refusal, decision);
            return;
        }

        var record = AuditRecords.Serialize(context, request, state, refusal, decision, time.GetUtcNow(), _realm);
        if (!_records.TryWrite(record))
        {
            Dropped(LogSink, 1);
        }

        if (_forFhir is not null && !_forFhir.TryWrite(record))
        {
            Dropped(FhirSink, 1);
        }
    }

    private void RecordReserved(HttpContext context, FhirRequest? request, RequestState state, Refusal? refusal, string decision)
    {
        byte[] record;
        try
        {
            record = AuditRecords.Serialize(context, request, state, refusal, decision, time.GetUtcNow(), _realm);
        }
        catch
        {
            _records.Release();
            _forFhir?.Release();
            throw;
        }

        _records.WriteReserved(record);
        _forFhir?.WriteReserved(record);
    }

    /// <summary>Counts records that will never reach <paramref name="sink"/> (sink=log|fhir).</summary>
    public void Dropped(KeyValuePair<string, object?> sink, int count)
    {
        Interlocked.Add(ref _dropped, count);
        HearthTelemetry.AuditDropped.Add(count, sink);
    }

    /// <summary>The records dropped since the last call, whichever sink.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>No record is taken after this (shutting down): the writers drain what is left.</summary>
    public void Complete()
    {
        _records.Complete();
        _forFhir?.Complete();
    }
}
