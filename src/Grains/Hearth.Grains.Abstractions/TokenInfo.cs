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

/// <summary>
/// What the gateway needs of an introspection: status, expiry, the granted Pauldron permissions
/// (JSON array), the SMART scopes and patient in context, and who asks (subject, client).
/// </summary>
[GenerateSerializer, Immutable, Alias("Hearth.TokenInfo")]
public sealed record TokenInfo(
    [property: Id(0)] TokenStatus Status,
    [property: Id(1)] DateTimeOffset? ExpiresAt,
    [property: Id(2)] string PermissionsJson)
{
    [Id(3)]
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The SMART <c>patient</c> claim: a Patient's logical id.</summary>
    [Id(4)]
    public string? Patient { get; init; }

    [Id(5)]
    public string? Subject { get; init; }

    [Id(6)]
    public string? ClientId { get; init; }

    /// <summary>Until when the TokenGrain holds this answer (never past <see cref="ExpiresAt"/>): a gateway may keep it as long.</summary>
    [Id(7)]
    public DateTimeOffset? CachedUntil { get; init; }

    /// <summary>The <c>cnf.jkt</c> of the introspection answer: the DPoP key (RFC 7638 thumbprint) the token is bound to.</summary>
    [Id(8)]
    public string? BoundKey { get; init; }

    /// <summary>The <c>cnf.x5t#S256</c> of the introspection answer: the client certificate the token is bound to (RFC 8705).</summary>
    [Id(9)]
    public string? BoundCertificate { get; init; }

    /// <summary>A <c>cnf</c> Hearth cannot check (not an object, or no method it knows): the token is refused.</summary>
    [Id(10)]
    public bool BindingUnusable { get; init; }

    /// <summary>The purposes of use the token states (v3-ActReason codes).</summary>
    [Id(11)]
    public IReadOnlyList<string> PurposeOfUse { get; init; } = [];

    /// <summary>The <c>fhirUser</c> claim.</summary>
    [Id(12)]
    public string? FhirUser { get; init; }

    /// <summary>The organization the user acts for (IHE IUA <c>subject_organization_id</c>).</summary>
    [Id(13)]
    public string? Organization { get; init; }

    public static TokenInfo Inactive { get; } = new(TokenStatus.Inactive, null, "[]");

    public static TokenInfo Unavailable { get; } = new(TokenStatus.Unavailable, null, "[]");
}
