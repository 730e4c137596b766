using System.Security.Cryptography;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Grains.Abstractions;
using Microsoft.IdentityModel.Tokens;

namespace Hearth.Gateway.Tokens;

/// <summary>
/// Server-provided DPoP nonces (RFC 9449 §9), the same on every gateway: a nonce names a period of
/// HEARTH_DPOP_MAX_AGE_SECONDS and carries an HMAC-SHA256 of it under the cluster's key
/// (<see cref="IDpopNonceGrain"/>); it is taken in its period and the next. The key is asked of the
/// grain at most once a minute, and once more (at most once a second) when a nonce does not verify,
/// in case the key changed (a new activation).
/// </summary>
internal sealed class DpopNonces(SenderConstraintSettings settings, IGrainFactory grains, TimeProvider time)
{
    private static readonly TimeSpan KeyLifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan KeyRetry = TimeSpan.FromSeconds(1);

    private readonly long _period = Math.Max(1, (long)settings.DpopMaxAge.TotalSeconds);
    private volatile Held? _key;

    private sealed record Held(byte[] Key, DateTimeOffset FetchedAt);

    public async ValueTask<string> CurrentAsync()
    {
        var key = await KeyAsync(refresh: false);
        return Nonce(key, Period());
    }

    public async ValueTask<bool> IsValidAsync(string? nonce)
    {
        if (nonce is not { Length: > 0 and <= 64 } || nonce.IndexOf('.') is not (> 0 and var dot)
            || !long.TryParse(nonce.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var period))
        {
            return false;
        }

        var current = Period();
        if (period != current && period != current - 1)
        {
            return false;
        }

        return Matches(await KeyAsync(refresh: false), nonce, period) || Matches(await KeyAsync(refresh: true), nonce, period);
    }

    private long Period() => time.GetUtcNow().ToUnixTimeSeconds() / _period;

    private static bool Matches(byte[] key, string nonce, long period)
    {
        var expected = Nonce(key, period);
        return expected.Length == nonce.Length && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(nonce));
    }

    private static string Nonce(byte[] key, long period)
    {
        var text = period.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("hearth-dpop-nonce:" + text));
        return text + "." + Base64UrlEncoder.Encode(mac, 0, 18);
    }

    private async ValueTask<byte[]> KeyAsync(bool refresh)
    {
        var held = _key;
        var now = time.GetUtcNow();
        if (held is not null && now - held.FetchedAt < (refresh ? KeyRetry : KeyLifetime))
        {
            return held.Key;
        }

        var key = await grains.GetGrain<IDpopNonceGrain>(0).KeyAsync();
        _key = new Held(key, now);
        return key;
    }
}
