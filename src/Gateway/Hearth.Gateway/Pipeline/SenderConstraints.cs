using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Tokens;
using Hearth.Grains.Abstractions;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// What a token is bound to (<c>cnf</c>), checked on every request however the token was known
/// (validated here, introspected, or from a cache): a DPoP key by the request's proof
/// (<see cref="DpopProofs"/>; such a token must come under the DPoP scheme, and a token under that
/// scheme must be bound to a key), a client certificate by the one presented
/// (<see cref="ClientCertificateThumbprint"/>, RFC 8705); HEARTH_DPOP_REQUIRED refuses unbound
/// tokens. A <c>cnf</c> Hearth cannot check refuses the token.
/// </summary>
internal sealed partial class SenderConstraints(HearthSettings settings, DpopProofs proofs, ILogger<SenderConstraints> logger)
{
    private readonly bool _dpopRequired = settings.AuthorizationServer.SenderConstraints.DpopRequired;

    /// <summary>Null when the token comes with what it is bound to (or is bound to nothing, and may be); else the refusal.</summary>
    public async ValueTask<Refusal?> CheckAsync(HttpContext context, RequestState state, ConnectionToken read, Principal principal)
    {
        var refusal = await BindingAsync(context, state, read, principal);
        if (refusal is not null)
        {
            LogRefused(logger, TokenKey.ForLog(read.Hash), refusal.Diagnostics);
        }

        return refusal;
    }

    private async ValueTask<Refusal?> BindingAsync(HttpContext context, RequestState state, ConnectionToken read, Principal principal)
    {
        var binding = principal.Binding;
        if (!binding.IsBound && !read.Dpop && !_dpopRequired)
        {
            return null; // a plain bearer token, where one may be used
        }

        if (binding.Unusable)
        {
            return new Refusal.SenderConstrained("it is bound (cnf) to something Hearth cannot check");
        }

        if (binding.Jkt is { } jkt)
        {
            if (!read.Dpop)
            {
                return new Refusal.SenderConstrained("it is bound to a DPoP key: send it as 'Authorization: DPoP', with a DPoP proof");
            }

            var target = state.PublicBase + HearthAuthorizationMiddleware.RawPath(context);
            if (await proofs.CheckAsync(context.Request.Headers[DpopProofs.HeaderName], context.Request.Method, target, read.Token, jkt, context.RequestAborted) is { } invalid)
            {
                return invalid;
            }
        }
        else if (read.Dpop)
        {
            return new Refusal.SenderConstrained("it is not bound to a DPoP key (no cnf.jkt), so it cannot be sent under the DPoP scheme");
        }
        else if (_dpopRequired)
        {
            return new Refusal.SenderConstrained("this server accepts only DPoP-bound access tokens");
        }

        return binding.CertificateThumbprint is { } x5t ? Certificate(context, x5t) : null;
    }

    private static Refusal? Certificate(HttpContext context, string x5t)
    {
        var presented = ClientCertificateThumbprint.Of(context);
        if (presented is null)
        {
            return new Refusal.SenderConstrained("it is bound to a client certificate (cnf.x5t#S256), and the request came without one");
        }

        return presented.Length == x5t.Length && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(presented), System.Text.Encoding.ASCII.GetBytes(x5t))
            ? null
            : new Refusal.SenderConstrained("it is bound to another client certificate than the one presented");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Token {TokenHash} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string tokenHash, string reason);
}
