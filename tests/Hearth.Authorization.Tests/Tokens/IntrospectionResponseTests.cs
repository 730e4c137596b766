using Hearth.Authorization.Permissions;
using Hearth.Authorization.Tokens;

namespace Hearth.Authorization.Tests.Tokens;

public class IntrospectionResponseTests
{
    [Theory]
    [InlineData("{\"active\":true,\"exp\":1795356166578,\"iat\":1795356106578}", 1795356166578L)] // Pauldron: milliseconds
    [InlineData("{\"active\":true,\"exp\":1795356166}", 1795356166000L)] // RFC 7662: seconds
    [InlineData("{\"active\":true,\"exp\":100000000000}", 100000000000000L)] // 10^11 is still seconds
    [InlineData("{\"active\":true,\"exp\":100000000001}", 100000000001L)] // above 10^11: milliseconds
    public void Parse_Exp_SecondsOrMilliseconds(string json, long expectedMs)
    {
        var result = IntrospectionResponse.Parse(json);
        Assert.True(result.Active);
        Assert.Equal(expectedMs, result.ExpiresAt!.Value.ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("{\"active\":false}")]
    [InlineData("{\"active\":false,\"permissions\":[{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"*\"},\"scopes\":[\"*\"]}]}")]
    public void Parse_Inactive_HasNoPermissions(string json)
    {
        var result = IntrospectionResponse.Parse(json);
        Assert.False(result.Active);
        Assert.Equal(0, PermissionSet.Parse(result.PermissionsJson).Count);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"active\":\"true\"}")]
    [InlineData("{\"active\":true,\"exp\":\"tomorrow\"}")]
    [InlineData("{\"active\":true,\"exp\":-5}")]
    [InlineData("{\"active\":true,\"active\":false}")]
    public void Parse_NotAnIntrospectionAnswer_Throws(string json)
        => Assert.Throws<FormatException>(() => IntrospectionResponse.Parse(json));

    [Fact]
    public void Parse_PermissionsAndJsonScope_BothRead()
    {
        const string permission = "{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"Specimen\"},\"scopes\":[\"read\"]}";
        var scope = System.Text.Json.JsonSerializer.Serialize("[" + permission.Replace("Specimen", "Observation") + "]");
        var result = IntrospectionResponse.Parse("{\"active\":true,\"permissions\":[" + permission + "],\"scope\":" + scope + "}");
        Assert.Equal(2, PermissionSet.Parse(result.PermissionsJson).Count);
    }

    [Fact]
    public void Parse_PlainOAuthScope_NoPermissions()
    {
        var result = IntrospectionResponse.Parse("{\"active\":true,\"scope\":\"openid profile\"}");
        Assert.True(result.Active);
        Assert.Null(result.ExpiresAt);
        Assert.Equal(0, PermissionSet.Parse(result.PermissionsJson).Count);
    }
}
