namespace Hearth.Authorization.Permissions;

public enum Decision
{
    /// <summary>Granted and not denied.</summary>
    Permit,

    /// <summary>No granted permission covers it.</summary>
    NotGranted,

    /// <summary>A deny permission overlaps it.</summary>
    ExplicitlyDenied,

    /// <summary>Granted by the token, denied by a patient's privacy Consent (the Consent policy).</summary>
    ConsentDenied,
}
