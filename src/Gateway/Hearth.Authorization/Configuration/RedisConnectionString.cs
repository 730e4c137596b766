namespace Hearth.Authorization.Configuration;

/// <summary>
/// A light syntax check of a StackExchange.Redis connection string (host:port entries and
/// key=value options, comma-separated), so that a typo stops start-up with a clear message.
/// </summary>
internal static class RedisConnectionString
{
    public static bool IsValid(string value)
    {
        var endpoints = 0;
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0 || part.Any(char.IsWhiteSpace))
            {
                return false;
            }

            if (part.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            var colon = part.LastIndexOf(':');
            var host = colon > 0 ? part[..colon] : part;
            if (host.Length == 0 || (colon > 0 && !(int.TryParse(part[(colon + 1)..], out var port) && port is > 0 and < 65536)))
            {
                return false;
            }

            endpoints++;
        }

        return endpoints > 0;
    }
}
