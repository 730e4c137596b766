namespace Hearth.Gateway.Extensions;

/// <summary>At start-up in cluster mode, waits for a silo instead of failing: silos may start after gateways.</summary>
internal sealed partial class RetryUntilASiloAnswers(ILogger<RetryUntilASiloAnswers> logger) : IClientConnectionRetryFilter
{
    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        LogWaiting(logger, exception.GetType().Name);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Hearth silo reachable yet ({ExceptionType}); retrying in 1 s")]
    private static partial void LogWaiting(ILogger logger, string exceptionType);
}
