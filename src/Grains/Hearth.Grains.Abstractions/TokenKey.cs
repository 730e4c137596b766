using System.Security.Cryptography;
using System.Text;

namespace Hearth.Grains.Abstractions;

/// <summary>The only form in which a token may be used as a key or written to a log.</summary>
public static class TokenKey
{
    /// <summary>Lowercase hex SHA-256 of the token's UTF-8 bytes.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A short prefix of the hash, for logs.</summary>
    public static string ForLog(string tokenHash) => tokenHash.Length > 12 ? tokenHash[..12] : tokenHash;
}
