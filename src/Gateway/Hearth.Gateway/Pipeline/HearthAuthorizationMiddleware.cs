using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Interactions;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// Runs inside the YARP pipeline before forwarding: classifies the request (refusing what it cannot
/// classify), checks what it asks (<see cref="RequestChecks"/>), authenticates it
/// (<see cref="Authenticator"/>), and hands it to the authorizer of its interaction, which refuses,
/// answers, or forwards it. Every answer Hearth gives goes through the <see cref="ReplyWriter"/>.
/// </summary>
internal sealed partial class HearthAuthorizationMiddleware(
    RequestDelegate next,
    HearthSettings settings,
    Authenticator authenticator,
    IEnumerable<IInteractionAuthorizer> authorizers,
    ReplyWriter writer,
    ILogger<HearthAuthorizationMiddleware> logger)
{
    private readonly IInteractionAuthorizer[] _authorizers = authorizers.ToArray();

    public async Task InvokeAsync(HttpContext context)
    {
        Caching.GrainCalls.MarkRequest();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var span = HearthTelemetry.Source.StartActivity("hearth.decision"); // null unless traced
        var (request, refusal) = Classify(context);
        RequestState? state = null;
        var failed = true;
        try
        {
            if (refusal is null)
            {
                (var shape, refusal) = await RequestChecks.ReadAsync(context, request!, settings.Gateway);
                if (refusal is null)
                {
                    state = new RequestState(request!, shape!, Principal.Anonymous, RequestState.PublicBaseOf(context, settings.Gateway));
                    await AuthorizeAsync(context, state);
                    failed = false;
                    return;
                }
            }

            await writer.WriteRefusalAsync(context, request, refusal);
            failed = false;
        }
        finally
        {
            var current = context.Features.Get<RequestState>() ?? state;
            refusal ??= current?.Refused;
            var decision = DecisionMetrics.Decide(context, refusal, current, failed);
            DecisionMetrics.Record(request, decision, current, started);
            span?.SetTag("hearth.decision", decision).SetTag("hearth.interaction", request is null ? "unknown" : DecisionMetrics.InteractionName(request.Interaction))
                .SetTag("hearth.entries.removed", current?.Removed ?? 0);
            context.RequestServices.GetRequiredService<Audit.AuditTrail>().Record(context, request, current, refusal, decision);
        }
    }

    /// <summary>The classified request, or why not (not under HEARTH_BASE_PATH, or not a FHIR interaction Hearth recognises).</summary>
    private (FhirRequest? Request, Refusal? Refusal) Classify(HttpContext context)
    {
        if (settings.Gateway.BasePath.Length > 0 && !context.Request.PathBase.Equals(settings.Gateway.BasePath, StringComparison.OrdinalIgnoreCase))
        {
            return (null, Refusal.Problem(404, "not-found", $"The FHIR API is served under {settings.Gateway.BasePath}."));
        }

        var classification = RequestClassifier.Classify(context.Request.Method, RawPath(context), settings.Rules.AllowedOperations);
        if (classification.Request is { } request)
        {
            return (request, null);
        }

        LogRefused(logger, context.Request.Method, classification.Status, classification.Diagnostics);
        return (null, Refusal.Problem(classification.Status, classification.IssueCode, classification.Diagnostics));
    }

    private async Task AuthorizeAsync(HttpContext context, RequestState state)
    {
        Verdict verdict;
        try
        {
            verdict = await DecideAsync(context, state);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            verdict = Fail(e);
        }

        var current = context.Features.Get<RequestState>() ?? state;
        if (verdict.Forwarding is { } forwarding)
        {
            await ForwardAsync(context, current, forwarding);
            return;
        }

        if (verdict.Refusal is { } refusal)
        {
            LogDecisionRefused(logger, current.Request.Interaction.ToString(), current.Request.ResourceType, refusal.Status,
                current.TokenHash is null ? "-" : TokenKey.ForLog(current.TokenHash));
        }

        try
        {
            await writer.WriteAsync(context, current, new Reply(verdict.Answer, verdict.Refusal), afterForwarding: false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            await writer.WriteAsync(context, current, Fail(e).Refusal!, afterForwarding: false);
        }
    }

    /// <summary>Authenticates (unless the request needs no token), then asks the authorizer of the interaction.</summary>
    private async Task<Verdict> DecideAsync(HttpContext context, RequestState anonymous)
    {
        var state = anonymous;
        var request = anonymous.Request;
        if (!request.IsPublicMetadata && !UnprotectedTypes.NeedsNoToken(request, settings.Rules.UnprotectedResourceTypes))
        {
            var (principal, refusal) = await authenticator.AuthenticateAsync(context);
            if (refusal is not null)
            {
                return refusal;
            }

            state = new RequestState(request, anonymous.Shape, principal!, anonymous.PublicBase);
        }

        context.Features.Set(state);
        return await AuthorizerOf(request).AuthorizeAsync(state, context);
    }

    /// <summary>The first authorizer that handles the request (the last one handles every request).</summary>
    private IInteractionAuthorizer AuthorizerOf(FhirRequest request)
    {
        foreach (var authorizer in _authorizers)
        {
            if (authorizer.Handles(request))
            {
                return authorizer;
            }
        }

        throw new InvalidOperationException($"No authorizer handles {request.Interaction}.");
    }

    private async Task ForwardAsync(HttpContext context, RequestState state, IForwarding forwarding)
    {
        state.Forwarding = forwarding;
        await next(context);
        if (context.GetForwarderErrorFeature() is { } error && !context.Response.HasStarted)
        {
            LogUpstreamError(logger, error.Error, error.Exception?.GetType().Name);
            context.Response.Clear();
            await writer.WriteAsync(context, state, error.Error == ForwarderError.RequestTimedOut
                ? Refusal.Problem(504, "timeout", "The FHIR server did not answer in time.")
                : Refusal.Problem(502, "transient", "The FHIR server could not be reached or gave no usable answer."), afterForwarding: false);
        }
    }

    private Verdict Fail(Exception e)
    {
        if (Failures.IsExpected(e))
        {
            LogFailed(logger, e.GetType().Name);
        }
        else
        {
            LogUnexpected(logger, e);
        }

        return Failures.ToRefusal(e);
    }

    /// <summary>The path as the client sent it (still encoded), without HEARTH_BASE_PATH.</summary>
    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToUriComponent();
        var query = raw.IndexOf('?');
        var path = query >= 0 ? raw[..query] : raw;
        var pathBase = context.Request.PathBase.ToUriComponent();
        if (pathBase.Length > 0)
        {
            path = path.StartsWith(pathBase, StringComparison.OrdinalIgnoreCase) ? path[pathBase.Length..] : "%";
        }

        return path.Length == 0 ? "/" : path;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Method} request: {Status} {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, int status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Interaction} of {ResourceType}: {Status} (token {TokenHash})")]
    private static partial void LogDecisionRefused(ILogger logger, string interaction, string? resourceType, int status, string tokenHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request could not be decided: {ExceptionType}")]
    private static partial void LogFailed(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "Deciding a request failed")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding failed: {Error} ({ExceptionType})")]
    private static partial void LogUpstreamError(ILogger logger, ForwarderError error, string? exceptionType);
}
