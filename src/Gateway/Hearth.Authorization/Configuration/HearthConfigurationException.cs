namespace Hearth.Authorization.Configuration;

/// <summary>Bad configuration: one message naming every bad setting.</summary>
public sealed class HearthConfigurationException(IReadOnlyList<string> errors)
    : Exception("Hearth cannot start, the configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
