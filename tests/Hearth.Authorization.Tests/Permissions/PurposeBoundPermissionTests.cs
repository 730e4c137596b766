using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Tests.Permissions;

/// <summary>Pauldron permissions that name purposes of use hold only for a token that states one of them.</summary>
public class PurposeBoundPermissionTests
{
    private static readonly RequiredPermission ReadObservation = new([TestResolution.Patient(new("urn:official:id", "10001"))], "Observation", FhirAction.Read, []);

    private static string Permission(string? purposes, bool deny = false)
        => "{" + (deny ? "\"deny\":true," : "") + "\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"*\"},\"scopes\":[\"*\"]"
           + (purposes is null ? "" : ",\"purposeOfUse\":" + purposes) + "}";

    private static Decision Evaluate(string permissions, params string[] purposes)
        => PermissionSet.From("[" + permissions + "]", [], null, purposes).Evaluate(ReadObservation);

    [Theory]
    [InlineData(null, new string[0], Decision.Permit)] // names no purpose: holds for any token
    [InlineData("[\"TREAT\"]", new[] { "TREAT" }, Decision.Permit)]
    [InlineData("[\"TREAT\",\"ETREAT\"]", new[] { "ETREAT" }, Decision.Permit)]
    [InlineData("\"TREAT\"", new[] { "TREAT" }, Decision.Permit)]
    [InlineData("[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]", new[] { "TREAT" }, Decision.Permit)]
    [InlineData("[\"TREAT\"]", new[] { "HPAYMT" }, Decision.NotGranted)] // another purpose
    [InlineData("[\"TREAT\"]", new string[0], Decision.NotGranted)] // the token states none
    [InlineData("[{\"system\":\"urn:other\",\"code\":\"TREAT\"}]", new[] { "TREAT" }, Decision.NotGranted)] // unreadable: grants nothing
    [InlineData("[42]", new[] { "TREAT" }, Decision.NotGranted)]
    public void Grant_ForItsPurposesOnly(string? purposes, string[] stated, Decision expected)
        => Assert.Equal(expected, Evaluate(Permission(purposes), stated));

    [Theory]
    [InlineData("[\"HMARKT\"]", new[] { "HMARKT" }, Decision.ExplicitlyDenied)]
    [InlineData("[\"HMARKT\"]", new[] { "TREAT" }, Decision.Permit)] // a deny for marketing does not stop treatment
    [InlineData("[\"HMARKT\"]", new string[0], Decision.Permit)]
    [InlineData("[{\"system\":\"urn:other\",\"code\":\"HMARKT\"}]", new[] { "TREAT" }, Decision.ExplicitlyDenied)] // unreadable: denies always
    public void Deny_ForItsPurposesOnly(string purposes, string[] stated, Decision expected)
        => Assert.Equal(expected, Evaluate(Permission(null) + "," + Permission(purposes, deny: true), stated));
}
