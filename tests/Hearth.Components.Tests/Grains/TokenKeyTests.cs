using System.Security.Cryptography;
using System.Text;
using Hearth.Grains.Abstractions;

namespace Hearth.Components.Tests.Grains;

public class TokenKeyTests
{
    [Fact]
    public void Hash_IsLowercaseHexSha256OfUtf8()
        => Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", TokenKey.Hash("abc"));

    [Theory]
    [InlineData(1)]
    [InlineData(339)] // (340 + 1) × 3 = 1,023 bytes at most: on the stack
    [InlineData(340)] // 1,026 bytes at most: a pooled array
    [InlineData(5000)]
    public void Hash_SameOnTheStackAndInAPooledArray(int repeat)
    {
        var token = string.Concat(Enumerable.Repeat("é", repeat)) + "x";
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), TokenKey.Hash(token));
    }
}
