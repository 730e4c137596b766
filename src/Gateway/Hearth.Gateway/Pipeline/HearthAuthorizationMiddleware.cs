using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
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
    RequestDecider decider,
    ReplyWriter writer,
    DecisionRecorder recorder,
    ILogger<HearthAuthorizationMiddleware> logger)
{
    // One async method for the whole way (classify, check, decide, forward or answer): each layer
    // of awaiting would cost every request a state machine of its own.
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
            RequestShape? shape = null;
            if (refusal is null)
            {
                (shape, refusal) = await RequestChecks.ReadAsync(context, request!, settings.Gateway);
            }

            if (refusal is not null)
            {
                await writer.WriteRefusalAsync(context, request, refusal);
                failed = false;
                return;
            }

            state = new RequestState(request!, shape!, Principal.Anonymous, RequestState.PublicBaseOf(context, settings.Gateway));
            if (settings.Rules.ConsentPolicy)
            {
                state.StartLedger();
            }

            Verdict verdict;
            try
            {
                verdict = await decider.DecideAsync(context, state);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                verdict = Fail(e);
            }

            if (verdict.Forwarding is { } forwarding)
            {
                state.Forwarding = forwarding;
                await next(context);
                if (context.GetForwarderErrorFeature() is { } error && !context.Response.HasStarted)
                {
                    await WriteForwardingErrorAsync(context, state, error);
                }
            }
            else
            {
                await WriteVerdictAsync(context, state, verdict);
            }

            failed = state.Cut;
        }
        finally
        {
            recorder.Record(context, request, state, refusal, failed, started, span);
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
            // A create with If-None-Exist is conditional: its criteria are resolved before anything is forwarded.
            return (request.Interaction == FhirInteraction.Create && context.Request.Headers.ContainsKey("If-None-Exist") ? request with { Conditional = true } : request, null);
        }

        LogRefused(logger, context.Request.Method, classification.Status, classification.Diagnostics);
        return (null, Refusal.Problem(classification.Status, classification.IssueCode, classification.Diagnostics));
    }

    /// <summary>An answer or refusal decided without forwarding.</summary>
    private async Task WriteVerdictAsync(HttpContext context, RequestState state, Verdict verdict)
    {
        if (verdict.Refusal is { } refusal)
        {
            LogDecisionRefused(logger, state.Request.Interaction.ToString(), state.Request.ResourceType, refusal.Status,
                state.TokenHash is null ? "-" : TokenKey.ForLog(state.TokenHash));
        }

        try
        {
            await writer.WriteAsync(context, state, new Reply(verdict.Answer, verdict.Refusal), afterForwarding: false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            context.Response.Clear(); // the failed answer's headers (a Warning, an obligation) are not the refusal's
            await writer.WriteAsync(context, state, Fail(e).Refusal!, afterForwarding: false);
        }
    }

    /// <summary>YARP could not get an answer from the FHIR server: 504 on a timeout, else 502.</summary>
    private Task WriteForwardingErrorAsync(HttpContext context, RequestState state, IForwarderErrorFeature error)
    {
        LogUpstreamError(logger, error.Error, error.Exception?.GetType().Name);
        context.Response.Clear();
        return writer.WriteAsync(context, state, error.Error == ForwarderError.RequestTimedOut
            ? Refusal.Problem(504, "timeout", "The FHIR server did not answer in time.")
            : Refusal.Problem(502, "transient", "The FHIR server could not be reached or gave no usable answer."), afterForwarding: false);
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
    internal static string RawPath(HttpContext context)
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
