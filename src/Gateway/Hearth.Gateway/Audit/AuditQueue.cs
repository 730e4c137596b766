using System.Collections.Concurrent;

namespace Hearth.Gateway.Audit;

/// <summary>
/// A bounded queue of audit records, many writers (requests) and one reader (a sink's writer),
/// without a lock: a request never waits on it, even when many record at once. Once
/// <see cref="Complete"/> is called, records are refused; <see cref="IsCompleted"/> is true when
/// the last record taken before it has been read.
/// </summary>
internal sealed class AuditQueue(int capacity)
{
    private readonly ConcurrentQueue<byte[]> _records = new();
    private int _count;
    private int _writing;
    private volatile bool _completed;

    /// <summary>False when full or completed: the record is dropped (the caller counts it).</summary>
    public bool TryWrite(byte[] record)
    {
        Interlocked.Increment(ref _writing);
        try
        {
            if (_completed)
            {
                return false;
            }

            if (Interlocked.Increment(ref _count) > capacity)
            {
                Interlocked.Decrement(ref _count);
                return false;
            }

            _records.Enqueue(record);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _writing);
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

    public void Complete() => _completed = true;

    /// <summary>Completed, no write under way, and every record read.</summary>
    public bool IsCompleted => _completed && Volatile.Read(ref _writing) == 0 && _records.IsEmpty;
}
