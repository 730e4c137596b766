namespace Hearth.Grains.Abstractions;

/// <summary>
/// A bearer token on its way to its TokenGrain. Its text never appears in logs, traces or
/// exception messages: <see cref="ToString"/> is redacted, whatever prints the message carrying it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Hearth.SecretToken")]
public sealed class SecretToken(string value)
{
    [Id(0)]
    public string Value { get; } = value;

    public override string ToString() => "<redacted token>";
}
