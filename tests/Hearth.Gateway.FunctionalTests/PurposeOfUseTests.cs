using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A Pauldron permission that names purposes of use, through a real gateway: it serves a token
/// that states one of them (introspected or a JWT), and no other.
/// </summary>
[Collection(HearthCollection.Name)]
public class PurposeOfUseTests(HearthEnvironment env)
{
    /// <summary>Patient 10003's Observations, any label, for treatment only.</summary>
    private static readonly string TreatmentOnly = "[" + Permission("10003", "Observation").TrimEnd()[..^1] + ",\"purposeOfUse\":[\"TREAT\"]}]";

    [Theory]
    [InlineData("{\"purpose_of_use\":\"TREAT\"}", HttpStatusCode.OK)]
    [InlineData("{\"ihe_iua\":{\"purpose_of_use\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]}}", HttpStatusCode.OK)]
    [InlineData("{\"purpose_of_use\":\"HPAYMT\"}", HttpStatusCode.Forbidden)]
    [InlineData("{}", HttpStatusCode.Forbidden)]
    public async Task IntrospectedToken_PurposeBoundGrant_ServesItsPurposeOnly(string claims, HttpStatusCode expected)
    {
        var token = await env.Auth.TokenAsync(TreatmentOnly, claimsJson: claims);
        using var response = await env.Gateway.Client.GetWithTokenAsync("Observation/obs-03-1", token);
        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("TREAT", HttpStatusCode.OK)]
    [InlineData("HMARKT", HttpStatusCode.Forbidden)]
    public async Task Jwt_PurposeBoundGrant_ServesItsPurposeOnly(string purpose, HttpStatusCode expected)
    {
        await using var gateway = await env.StartGatewayAsync(env.SmartSettings("jwt"));
        var claims = TestKeys.Claims(env.Oidc.Issuer, "openid");
        claims["permissions"] = System.Text.Json.JsonDocument.Parse(TreatmentOnly).RootElement;
        claims["purpose_of_use"] = purpose;
        using var response = await gateway.Client.GetWithTokenAsync("Observation/obs-03-1", TestKeys.Craft(claims));
        Assert.Equal(expected, response.StatusCode);
    }
}
