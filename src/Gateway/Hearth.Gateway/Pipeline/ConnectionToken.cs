using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Hearth.Grains.Abstractions;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Primitives;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// The bearer token a connection sent last, read, hashed and told local or not: a client sends the
/// same Authorization header on every request of a kept-alive connection, and reading, hashing and
/// (for a JWT) parsing it again to see its issuer would give the same token, hash and answer. Held
/// in the connection's items only, never shared, logged or used as a key; compared in constant
/// time (a connection shared by a front proxy carries several clients' tokens). HTTP/1.x only: its requests on a connection come one after another, while
/// HTTP/2 streams share the connection's items concurrently. Whatever the token's state,
/// everything after the hash runs as before.
/// </summary>
internal sealed class ConnectionToken
{
    private static readonly object Key = new();

    private ConnectionToken(string authorization, string token, string hash, bool local, bool dpop)
    {
        Authorization = authorization;
        Token = token;
        Hash = hash;
        Local = local;
        Dpop = dpop;
    }

    /// <summary>The Authorization header's value, as sent.</summary>
    private string Authorization { get; }

    public string Token { get; }

    /// <summary><see cref="TokenKey.Hash"/> of <see cref="Token"/>.</summary>
    public string Hash { get; }

    /// <summary>Validated in the gateway (a JWT of the configured issuer: reading one to tell is a parse of its JSON) rather than introspected.</summary>
    public bool Local { get; }

    /// <summary>Sent under the <c>DPoP</c> scheme (RFC 9449 §7.1) rather than <c>Bearer</c>.</summary>
    public bool Dpop { get; }

    /// <summary>
    /// The bearer token of <paramref name="authorization"/>: the one this connection sent last when
    /// the header is the same, else read (<see cref="BearerToken.Read"/>), hashed, told local or not
    /// by <paramref name="local"/>, and kept for the connection's next request.
    /// </summary>
    public static BearerTokenStatus Read(HttpContext context, StringValues authorization, Func<string, bool> local, out ConnectionToken? read)
    {
        var items = Items(context);
        if (authorization.Count == 1 && items is not null && items.TryGetValue(Key, out var value) && value is ConnectionToken last && last.Sent(authorization[0]!))
        {
            read = last;
            return BearerTokenStatus.Present;
        }

        var status = BearerToken.Read(authorization, acceptDpop: true, out var token, out var dpop);
        read = status == BearerTokenStatus.Present ? new ConnectionToken(authorization[0]!, token, TokenKey.Hash(token), local(token), dpop) : null;
        if (read is not null && items is not null)
        {
            items[Key] = read;
        }

        return status;
    }

    private static IDictionary<object, object?>? Items(HttpContext context)
        => HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol)
            ? context.Features.Get<IConnectionItemsFeature>()?.Items
            : null;

    private bool Sent(string authorization)
        => authorization.Length == Authorization.Length
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(authorization.AsSpan()), MemoryMarshal.AsBytes(Authorization.AsSpan()));
}
