namespace Hearth.Gateway.Caching;

/// <summary>
/// Counts the grain calls made while serving requests (an Orleans outgoing call filter on this
/// gateway's silo or client); background work (subscriptions, revocation sync) is not counted.
/// A warm request should make none.
/// </summary>
internal sealed class GrainCalls
{
    private static readonly AsyncLocal<bool> InRequest = new();
    private long _duringRequests;

    public long DuringRequests => Interlocked.Read(ref _duringRequests);

    /// <summary>Marks the current request's flow: grain calls made from it are counted.</summary>
    public static void MarkRequest() => InRequest.Value = true;

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (InRequest.Value)
        {
            Interlocked.Increment(ref _duringRequests);
        }

        return context.Invoke();
    }
}
