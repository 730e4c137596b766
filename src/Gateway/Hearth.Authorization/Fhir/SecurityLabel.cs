namespace Hearth.Authorization.Fhir;

/// <summary>A security label (a Coding in <c>meta.security</c>): system and code.</summary>
public sealed record SecurityLabel(string? System, string? Code)
{
    public override string ToString() => $"{System}|{Code}";
}
