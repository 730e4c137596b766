using System.Collections.Concurrent;

namespace Hearth.Gateway.Audit;

/// <summary>
/// A bounded queue of audit records, many writers (requests) and one reader (a sink's writer),
/// without a lock: a request never waits on it, even when many record at once. Once
/// <see cref="Complete"/> is called, records are refused; <see cref="IsCompleted"/> is true when
/// the last record taken before it has been read. The reader pauses between batches
/// (<see cref="WaitAsync"/>); a queue half full ends the pause.
/// </summary>
internal sealed class AuditQueue(int capacity)
{
    private readonly ConcurrentQueue<byte[]> _records = new();
    private int _count;
    private int _writing;
    private int _reserved;
    private readonly int _wakeAt = (capacity + 1) / 2;
    private volatile bool _completed;
    private TaskCompletionSource? _reader;

    /// <summary>False when full or completed: the record is dropped (the caller counts it).</summary>
    public bool TryWrite(byte[] record)
    {
        Interlocked.Increment(ref _writing);
        try
        {
            if (TakeSlot() is not { } count)
            {
                return false;
            }

            Enqueue(record, count);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }
    }

    /// <summary>
    /// Holds a place for a record not made yet (a break-the-glass answer is served only once its
    /// record is sure to be queued): false when full or completed. Each reservation ends in one
    /// <see cref="WriteReserved"/> or <see cref="Release"/>; the queue is not completed before.
    /// </summary>
    public bool TryReserve()
    {
        Interlocked.Increment(ref _writing);
        try
        {
            if (TakeSlot() is null)
            {
                return false;
            }

            Interlocked.Increment(ref _reserved);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
        }
    }

    /// <summary>Queues the record a reservation held the place of (even once completion began: the writer waits for it).</summary>
    public void WriteReserved(byte[] record)
    {
        Enqueue(record, Volatile.Read(ref _count));
        Interlocked.Decrement(ref _reserved);
    }

    /// <summary>Gives back a reservation whose record will not be written.</summary>
    public void Release()
    {
        Interlocked.Decrement(ref _count);
        Interlocked.Decrement(ref _reserved);
    }

    /// <summary>A place in the queue (the count with it), or null when full or completed.</summary>
    private int? TakeSlot()
    {
        if (_completed)
        {
            return null;
        }

        var count = Interlocked.Increment(ref _count);
        if (count > capacity)
        {
            Interlocked.Decrement(ref _count);
            return null;
        }

        return count;
    }

    private void Enqueue(byte[] record, int count)
    {
        _records.Enqueue(record);
        if (count >= _wakeAt)
        {
            Volatile.Read(ref _reader)?.TrySetResult(); // half full: the reader is not left waiting out its pause
        }
    }

    public bool TryRead(out byte[] record)
    {
        if (!_records.TryDequeue(out record!))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>The reader's pause: <paramref name="most"/>, or less once the queue is half full (then no record waits for the pause to end).</summary>
    public async Task WaitAsync(TimeSpan most, TimeProvider time)
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // never run on a request's thread
        Volatile.Write(ref _reader, woken);
        if (Volatile.Read(ref _count) < _wakeAt)
        {
            using var pause = new CancellationTokenSource(most, time);
            await woken.Task.WaitAsync(pause.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        Volatile.Write(ref _reader, null);
    }

    public void Complete()
    {
        _completed = true;
        Volatile.Read(ref _reader)?.TrySetResult();
    }

    /// <summary>Completed, no write under way or reserved, and every record read.</summary>
    public bool IsCompleted => _completed && Volatile.Read(ref _writing) == 0 && Volatile.Read(ref _reserved) == 0 && _records.IsEmpty;
}
