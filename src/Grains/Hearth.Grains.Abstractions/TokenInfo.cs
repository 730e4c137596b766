namespace Hearth.Grains.Abstractions;

[GenerateSerializer]
[Alias("Hearth.TokenStatus")]
public enum TokenStatus
{
    Active = 0,
    Inactive = 1,

    /// <summary>The authorization server could not be asked (unreachable, error, malformed answer); nothing cached.</summary>
    Unavailable = 2,
}

/// <summary>What the gateway needs of an introspection: status, expiry and the granted permissions (JSON array).</summary>
[GenerateSerializer, Immutable, Alias("Hearth.TokenInfo")]
public sealed record TokenInfo(
    [property: Id(0)] TokenStatus Status,
    [property: Id(1)] DateTimeOffset? ExpiresAt,
    [property: Id(2)] string PermissionsJson)
{
    public static TokenInfo Inactive { get; } = new(TokenStatus.Inactive, null, "[]");

    public static TokenInfo Unavailable { get; } = new(TokenStatus.Unavailable, null, "[]");
}
