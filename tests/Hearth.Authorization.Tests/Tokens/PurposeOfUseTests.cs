using System.Text.Json;
using Hearth.Authorization.Tokens;

namespace Hearth.Authorization.Tests.Tokens;

/// <summary>The purposes of use and the fhirUser a token states, as SMART and IHE IUA write them.</summary>
public class PurposeOfUseTests
{
    private static TokenClaims Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return TokenClaims.Read(document.RootElement);
    }

    [Theory]
    [InlineData("{\"purpose_of_use\":\"TREAT\"}", "TREAT")]
    [InlineData("{\"purpose_of_use\":\"TREAT ETREAT\"}", "TREAT,ETREAT")]
    [InlineData("{\"purpose_of_use\":[\"BTG\",\"TREAT\",\"BTG\"]}", "BTG,TREAT")]
    [InlineData("{\"purpose_of_use\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"BTG\"}]}", "BTG")]
    [InlineData("{\"ihe_iua\":{\"purpose_of_use\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"TREAT\"}]}}", "TREAT")]
    [InlineData("{\"extensions\":{\"ihe_iua\":{\"purpose_of_use\":{\"code\":\"HPAYMT\"}}}}", "HPAYMT")]
    [InlineData("{\"purpose_of_use\":[{\"system\":\"urn:other\",\"code\":\"BTG\"}]}", "")] // another system: not a purpose Hearth knows
    [InlineData("{\"purpose_of_use\":\"TR EAT;\"}", "TR")] // a code must be a plain token
    [InlineData("{\"purpose_of_use\":42}", "")]
    [InlineData("{}", "")]
    public void PurposeOfUse_FromEitherClaim(string json, string expected)
        => Assert.Equal(expected, string.Join(",", Read(json).PurposeOfUse));

    [Fact]
    public void PurposeOfUse_Bounded()
    {
        var many = string.Join(" ", Enumerable.Range(0, 100).Select(i => "P" + i));
        Assert.Equal(TokenClaims.MaxPurposes, Read("{\"purpose_of_use\":\"" + many + "\"}").PurposeOfUse.Count);
    }

    [Theory]
    [InlineData("{\"fhirUser\":\"Practitioner/pr1\"}", "Practitioner/pr1")]
    [InlineData("{\"fhirUser\":7}", null)]
    [InlineData("{}", null)]
    public void FhirUser_Read(string json, string? expected) => Assert.Equal(expected, Read(json).FhirUser);
}
