using System.Security.Cryptography;
using System.Text;

namespace Hearth.Grains.Abstractions;

/// <summary>The only form in which a token may be used as a key or written to a log.</summary>
public static class TokenKey
{
    /// <summary>Lowercase hex SHA-256 of the token's UTF-8 bytes.</summary>
    public static string Hash(string token)
    {
        // On every request: the token's bytes on the stack (or in a pooled array, cleared after), not a new array.
        const int OnStack = 1024;
        var most = Encoding.UTF8.GetMaxByteCount(token.Length);
        var rented = most > OnStack ? System.Buffers.ArrayPool<byte>.Shared.Rent(most) : null;
        var bytes = rented ?? stackalloc byte[OnStack];
        var length = Encoding.UTF8.GetBytes(token, bytes);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes[..length], hash);
        if (rented is not null)
        {
            CryptographicOperations.ZeroMemory(bytes[..length]);
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        return Convert.ToHexStringLower(hash);
    }

    /// <summary>A short prefix of the hash, for logs.</summary>
    public static string ForLog(string tokenHash) => tokenHash.Length > 12 ? tokenHash[..12] : tokenHash;
}
