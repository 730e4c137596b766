using System.Globalization;
using System.Net;

namespace Hearth.Authorization.Configuration;

/// <summary>
/// Reads settings by name (environment first, then .NET configuration: the caller's lookup) and
/// collects every bad value, so that start-up fails once, naming them all.
/// </summary>
public sealed class SettingsReader(Func<string, string?> get)
{
    public List<string> Errors { get; } = [];

    /// <summary>The trimmed value; null when unset or blank.</summary>
    public string? Text(string name)
    {
        var value = get(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>An absolute http(s) URL without query, fragment or credentials, without a trailing slash; "" when unset or bad.</summary>
    public string Url(string name, bool required, string example)
    {
        var value = Text(name);
        if (value is null)
        {
            if (required)
            {
                Errors.Add($"{name} is required (for example {example}).");
            }

            return "";
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            Errors.Add($"{name} must be an absolute http(s) URL without query, fragment or credentials (for example {example}).");
            return "";
        }

        return value.TrimEnd('/');
    }

    public bool Bool(string name, bool fallback)
    {
        var value = Text(name);
        if (value is null)
        {
            return fallback;
        }

        if (bool.TryParse(value, out var b))
        {
            return b;
        }

        Errors.Add($"{name} must be true or false.");
        return fallback;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var value = Text(name);
        if (value is null)
        {
            return fallback;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= min && i <= max)
        {
            return i;
        }

        Errors.Add($"{name} must be a whole number from {min} to {max}.");
        return fallback;
    }

    public TimeSpan Seconds(string name, TimeSpan fallback, int min = 0, int max = 7 * 24 * 3600)
        => TimeSpan.FromSeconds(Int(name, (int)fallback.TotalSeconds, min, max));

    /// <summary>A path starting with '/', without '..', '//' or spaces.</summary>
    public string Path(string name, string fallback)
    {
        var value = Text(name) ?? fallback;
        if (!value.StartsWith('/') || value.Contains("..", StringComparison.Ordinal) || value.Contains("//", StringComparison.Ordinal) || value.Any(char.IsWhiteSpace))
        {
            Errors.Add($"{name} must be a path starting with '/' (for example {fallback}).");
        }

        return value;
    }

    /// <summary>A comma-separated list, trimmed, without empty items.</summary>
    public List<string> List(string name, IReadOnlyList<string>? fallback = null)
    {
        var value = get(name);
        return value is null
            ? fallback?.ToList() ?? []
            : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    /// <summary>A list of FHIR R4 resource type names.</summary>
    public HashSet<string> ResourceTypes(string name)
    {
        var types = List(name);
        foreach (var type in types.Where(t => !Fhir.FhirModel.R4.IsResourceType(t)))
        {
            Errors.Add($"{name} names '{type}', which is not a FHIR R4 resource type.");
        }

        return types.ToHashSet(StringComparer.Ordinal);
    }

    public IPAddress? Address(string name)
    {
        if (Text(name) is not { } text)
        {
            return null;
        }

        if (IPAddress.TryParse(text, out var ip))
        {
            return ip;
        }

        Errors.Add($"{name}: '{text}' is not an IP address.");
        return null;
    }

    public List<IPAddress> Addresses(string name)
    {
        var result = new List<IPAddress>();
        foreach (var text in List(name))
        {
            if (IPAddress.TryParse(text, out var ip))
            {
                result.Add(ip);
            }
            else
            {
                Errors.Add($"{name}: '{text}' is not an IP address.");
            }
        }

        return result;
    }
}
