using System.Buffers;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;

namespace Hearth.Gateway.Audit;

/// <summary>
/// With HEARTH_AUDIT_FHIR_BASE: sends the audit trail to that FHIR server as AuditEvents
/// (<see cref="AuditEvents"/>), up to <see cref="BatchSize"/> per batch Bundle, off every
/// request's path. A server that is down or hangs (<see cref="Timeout"/>) is retried with back-off
/// (1 s doubling to 30 s) while new records wait in the trail's bounded buffer, beyond which they
/// are dropped and counted; records the server refuses (4xx) are dropped and counted, never retried.
/// On shutdown it tries for <see cref="AuditWriter.FlushOnStop"/>, then counts what is left as dropped.
/// </summary>
internal sealed partial class AuditEventSender(AuditTrail trail, GatewaySettings settings, IHttpClientFactory httpClients, ILogger<AuditEventSender> logger)
    : BackgroundService
{
    public const string HttpClientName = "hearth-audit";
    public const int BatchSize = 100;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly KeyValuePair<string, object?> Sink = new("sink", "fhir");
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _abandon = new();
    private readonly string _node = "Hearth gateway " + Environment.MachineName;

    private enum Sent { Stored, Refused, Failed }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (trail.ForFhir is not { } records)
        {
            return;
        }

        var batch = new List<JsonObject>(BatchSize);
        var backOff = TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(AuditWriter.WriteEvery); // no request wakes the sender
        try
        {
            while (true)
            {
                var completed = records.IsCompleted;
                Fill(records, batch);
                if (batch.Count == 0)
                {
                    if (completed)
                    {
                        break;
                    }

                    await timer.WaitForNextTickAsync(_abandon.Token);
                    continue;
                }

                switch (await SendAsync(batch))
                {
                    case Sent.Stored:
                        batch.Clear();
                        backOff = TimeSpan.FromSeconds(1);
                        break;
                    case Sent.Refused:
                        trail.Dropped(Sink, batch.Count);
                        batch.Clear();
                        break;
                    default:
                        await Task.Delay(backOff, _abandon.Token);
                        backOff = backOff * 2 < MaxBackOff ? backOff * 2 : MaxBackOff;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            var left = batch.Count;
            while (records.TryRead(out _))
            {
                left++;
            }

            trail.Dropped(Sink, left);
            LogAbandoned(logger, left);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        trail.Complete();
        if (ExecuteTask is { } sending && await Task.WhenAny(sending, Task.Delay(AuditWriter.FlushOnStop, cancellationToken)) != sending)
        {
            await _abandon.CancelAsync();
            await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
        }
    }

    public override void Dispose()
    {
        _abandon.Dispose();
        base.Dispose();
    }

    private void Fill(AuditQueue records, List<JsonObject> batch)
    {
        while (batch.Count < BatchSize && records.TryRead(out var record))
        {
            batch.Add(AuditEvents.From(JsonNode.Parse(record)!.AsObject(), _node));
        }
    }

    /// <summary>The batch Bundle that stores each AuditEvent, written from the nodes as they are (a retry writes them again; nothing is copied).</summary>
    private static byte[] BatchBundle(List<JsonObject> batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, FhirJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", "Bundle");
            writer.WriteString("type", "batch");
            writer.WriteStartArray("entry");
            foreach (var audit in batch)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("resource");
                audit.WriteTo(writer);
                writer.WriteStartObject("request");
                writer.WriteString("method", "POST");
                writer.WriteString("url", "AuditEvent");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task<Sent> SendAsync(List<JsonObject> batch)
    {
        try
        {
            using var content = new ByteArrayContent(BatchBundle(batch));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json") { CharSet = "utf-8" };
            using var response = await httpClients.CreateClient(HttpClientName).PostAsync(settings.AuditFhirBase, content, _abandon.Token);
            if ((int)response.StatusCode is >= 400 and < 500)
            {
                LogRefused(logger, (int)response.StatusCode, batch.Count);
                return Sent.Refused;
            }

            if (!response.IsSuccessStatusCode)
            {
                LogUnavailable(logger, $"status {(int)response.StatusCode}");
                return Sent.Failed;
            }

            CountRefusedEntries(await response.Content.ReadFromJsonAsync<JsonObject>(_abandon.Token));
            return Sent.Stored;
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !_abandon.IsCancellationRequested))
        {
            LogUnavailable(logger, e.GetType().Name);
            return Sent.Failed;
        }
    }

    /// <summary>A batch answer's entries the server did not store (their own status not 2xx) are dropped records.</summary>
    private void CountRefusedEntries(JsonObject? answer)
    {
        var refused = (answer?["entry"] as JsonArray ?? []).Count(e => e?["response"]?["status"]?.GetValue<string>() is not { } status || !status.StartsWith('2'));
        if (refused > 0)
        {
            trail.Dropped(Sink, refused);
            LogRefused(logger, 0, refused);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The audit FHIR server could not take audit records ({Reason}); retrying with back-off")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit FHIR server refused {Count} audit records (status {Status}); they are dropped")]
    private static partial void LogRefused(ILogger logger, int status, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} audit records could not be sent before shutdown; they are dropped")]
    private static partial void LogAbandoned(ILogger logger, int count);
}
