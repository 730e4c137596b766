using Hearth.Authorization.Configuration;

namespace Hearth.Gateway.Audit;

/// <summary>
/// Writes the audit trail's records as JSON lines, every <see cref="WriteEvery"/> what has gathered
/// (at most <see cref="IdleEvery"/> after a quiet spell),
/// to standard output (or HEARTH_AUDIT_LOG_FILE), off every request's path. Drops are reported once per
/// <see cref="DropReport"/>. On shutdown what is buffered is written within
/// <see cref="FlushOnStop"/>; what cannot be (a sink that does not take it) is said in the log.
/// </summary>
internal sealed partial class AuditWriter(AuditTrail trail, GatewaySettings settings, TimeProvider time, ILogger<AuditWriter> logger) : BackgroundService
{
    public static readonly TimeSpan DropReport = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan FlushOnStop = TimeSpan.FromSeconds(5);

    /// <summary>How often gathered records are written.</summary>
    public static readonly TimeSpan WriteEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait for a record after a quiet spell (the first record after it is written within this).</summary>
    public static readonly TimeSpan IdleEvery = TimeSpan.FromSeconds(1);

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // never hold up the host's start (opening a sink may block)
        await using var output = settings.AuditLogFile is { } file
            ? new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 64 * 1024)
            : (Stream)new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
        var reported = time.GetUtcNow();

        // Every WriteEvery, what has gathered: no request wakes this writer (a wake-up per record cost
        // more than the record), and each batch is one write to the sink. While nothing comes, the
        // writer looks less often (up to IdleEvery): an idle gateway should not wake ten times a second;
        // a queue half full ends the pause at once (a burst after a quiet spell is not dropped).
        var wait = WriteEvery;
        while (true)
        {
            var completed = trail.Records.IsCompleted;
            var wrote = false;
            while (trail.Records.TryRead(out var record))
            {
                await output.WriteAsync(record, CancellationToken.None);
                await output.WriteAsync(NewLine, CancellationToken.None);
                wrote = true;
            }

            if (wrote)
            {
                await output.FlushAsync(CancellationToken.None);
            }

            if (time.GetUtcNow() - reported >= DropReport)
            {
                reported = time.GetUtcNow();
                ReportDrops();
            }

            if (completed)
            {
                break;
            }

            wait = wrote ? WriteEvery : (wait * 2 < IdleEvery ? wait * 2 : IdleEvery);
            await trail.Records.WaitAsync(wait, time);
        }

        ReportDrops();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        trail.Complete();
        if (ExecuteTask is { } writing && await Task.WhenAny(writing, Task.Delay(FlushOnStop, cancellationToken)) != writing)
        {
            LogNotFlushed(logger, (int)FlushOnStop.TotalSeconds);
        }
    }

    private void ReportDrops()
    {
        if (trail.TakeDropped() is > 0 and var dropped)
        {
            LogDropped(logger, dropped);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Dropped} audit records were dropped: the audit sink did not keep up")]
    private static partial void LogDropped(ILogger logger, long dropped);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit sink did not take the buffered records within {Seconds} s of shutdown")]
    private static partial void LogNotFlushed(ILogger logger, int seconds);
}
