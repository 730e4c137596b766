namespace Hearth.Testing;

/// <summary>The system clock, moved forward by <see cref="Offset"/>: lets a test step past a token's exp.</summary>
public sealed class ShiftableTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
