using Hearth.Gateway.Audit;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>The audit trail's lock-free buffer: bounded, every record taken read once, nothing taken after completion.</summary>
public class AuditQueueTests
{
    [Fact]
    public void ManyWriters_BoundHeld_EveryTakenRecordReadOnce()
    {
        var queue = new AuditQueue(1000);
        var taken = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            if (queue.TryWrite(BitConverter.GetBytes(i)))
            {
                Interlocked.Increment(ref taken);
            }
        });

        Assert.Equal(1000, taken);
        var read = new HashSet<int>();
        while (queue.TryRead(out var record))
        {
            Assert.True(read.Add(BitConverter.ToInt32(record)));
        }

        Assert.Equal(1000, read.Count);
        Assert.True(queue.TryWrite([1]), "room again once read");
    }

    [Fact]
    public void Complete_RefusesNewRecords_CompletedOnceDrained()
    {
        var queue = new AuditQueue(10);
        Assert.True(queue.TryWrite([1]));
        queue.Complete();
        Assert.False(queue.TryWrite([2]));
        Assert.False(queue.IsCompleted); // one record still to read
        Assert.True(queue.TryRead(out var record));
        Assert.Equal([1], record);
        Assert.True(queue.IsCompleted);
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task ReaderPausing_HalfFullQueue_EndsThePause()
    {
        var queue = new AuditQueue(4);
        var pausing = queue.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System);
        Assert.True(queue.TryWrite([1]));
        await Task.Delay(200);
        Assert.False(pausing.IsCompleted); // one record of four: the reader may take its time
        Assert.True(queue.TryWrite([2]));
        Assert.Same(pausing, await Task.WhenAny(pausing, Task.Delay(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task ReaderPausing_Complete_EndsThePause()
    {
        var queue = new AuditQueue(4);
        var pausing = queue.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System);
        queue.Complete();
        Assert.Same(pausing, await Task.WhenAny(pausing, Task.Delay(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public void Reservation_HoldsItsPlace_AgainstRacingWriters_AndCompletionWaitsForIt()
    {
        var queue = new AuditQueue(2);
        Assert.True(queue.TryReserve()); // a break-the-glass answer about to be served
        var taken = 0;
        Parallel.For(0, 100, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            if (queue.TryWrite([0]))
            {
                Interlocked.Increment(ref taken);
            }
        });

        Assert.Equal(1, taken); // the other writers got one place: the reserved one stays
        Assert.False(queue.TryReserve());
        queue.Complete();
        Assert.True(queue.TryRead(out _));
        Assert.False(queue.IsCompleted); // the reserved record is still to come
        queue.WriteReserved([7]);
        Assert.True(queue.TryRead(out var record));
        Assert.Equal([7], record);
        Assert.True(queue.IsCompleted);
    }

    [Fact]
    public void Release_GivesThePlaceBack()
    {
        var queue = new AuditQueue(1);
        Assert.True(queue.TryReserve());
        Assert.False(queue.TryWrite([1]));
        queue.Release();
        Assert.True(queue.TryWrite([1]));
        queue.Complete();
        Assert.True(queue.TryRead(out _));
        Assert.True(queue.IsCompleted);
    }
}
