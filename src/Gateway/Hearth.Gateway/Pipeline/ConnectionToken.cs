using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Hearth.Grains.Abstractions;
using Microsoft.AspNetCore.Connections.Features;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The bearer token a connection sent last, read and hashed: a client sends the same
/// Authorization header on every request of a kept-alive connection, and reading and hashing it
/// again (the SHA-256 is the costliest step of a warm request's authentication) would give the
/// same token and hash. Held in the connection's items only, never shared, logged or used as a
/// key; compared in constant time (a connection shared by a front proxy carries several
/// clients' tokens). HTTP/1.x only: its requests on a connection come one after another, while
/// HTTP/2 streams share the connection's items concurrently. Whatever the token's state,
/// everything after the hash runs as before.
/// </summary>
internal sealed class ConnectionToken
{
    private static readonly object Key = new();

    private ConnectionToken(string authorization, string token, string hash)
    {
        Authorization = authorization;
        Token = token;
        Hash = hash;
    }

    /// <summary>The Authorization header's value, as sent.</summary>
    private string Authorization { get; }

    public string Token { get; }

    /// <summary><see cref="TokenKey.Hash"/> of <see cref="Token"/>.</summary>
    public string Hash { get; }

    /// <summary>The token read from <paramref name="authorization"/> (one header value) when this connection sent that value last.</summary>
    public static ConnectionToken? Last(HttpContext context, string authorization)
    {
        var items = Items(context);
        return items is not null && items.TryGetValue(Key, out var value) && value is ConnectionToken last && last.Sent(authorization) ? last : null;
    }

    /// <summary>Hashes <paramref name="token"/> (read from <paramref name="authorization"/>) and keeps both for the connection's next request.</summary>
    public static string HashAndKeep(HttpContext context, string authorization, string token)
    {
        var hash = TokenKey.Hash(token);
        if (Items(context) is { } items)
        {
            items[Key] = new ConnectionToken(authorization, token, hash);
        }

        return hash;
    }

    private static IDictionary<object, object?>? Items(HttpContext context)
        => HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol)
            ? context.Features.Get<IConnectionItemsFeature>()?.Items
            : null;

    private bool Sent(string authorization)
        => authorization.Length == Authorization.Length
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(authorization.AsSpan()), MemoryMarshal.AsBytes(Authorization.AsSpan()));
}
