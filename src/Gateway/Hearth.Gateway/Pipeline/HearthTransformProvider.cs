using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// YARP's transforms of the FHIR route. The request the FHIR server gets carries neither the
/// client's credentials nor conditional headers (a 304 would skip the check), asks for
/// uncompressed FHIR JSON, and is changed as its authorization says; the answer is judged by that
/// authorization before anything of it reaches the client (the body is never streamed through).
/// </summary>
internal sealed partial class HearthTransformProvider(GatewaySettings settings, ReplyWriter writer, ILogger<HearthTransformProvider> logger) : ITransformProvider
{
    public const string RouteId = "fhir";

    private static readonly string[] RemovedHeaders = ["Authorization", "DPoP", "Cookie", "Accept-Encoding", "If-None-Match", "If-Modified-Since", "If-Match", "Prefer"];

    /// <summary>Never sent upstream: a token, the format (Hearth always asks for JSON and converts), subsetting (Hearth judges whole resources, then subsets).</summary>
    private static readonly string[] RemovedParameters = ["access_token", "_format", "_elements", "_summary"];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.RouteId != RouteId)
        {
            return;
        }

        foreach (var header in RemovedHeaders.Append(settings.ForwardSubjectHeader).Append(settings.ForwardClientHeader).OfType<string>())
        {
            context.AddRequestHeaderRemove(header);
        }

        context.AddRequestHeader("Accept", "application/fhir+json", append: false);
        context.AddRequestTransform(transform =>
        {
            // One transform for all removed parameters, and none of YARP's query parsing for a request without a query (most reads).
            if (transform.HttpContext.Request.QueryString.HasValue)
            {
                foreach (var parameter in RemovedParameters)
                {
                    transform.Query.Collection.Remove(parameter);
                }
            }

            // HEAD is asked as GET: Hearth needs the body to judge what the headers describe.
            if (transform.ProxyRequest.Method == HttpMethod.Head)
            {
                transform.ProxyRequest.Method = HttpMethod.Get;
            }

            var state = transform.HttpContext.Features.Get<RequestState>();
            if (state is not null && HearthTelemetry.UpstreamDuration.Enabled)
            {
                state.ForwardedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            Identify(transform.ProxyRequest, settings.ForwardSubjectHeader, state?.Principal.Subject);
            Identify(transform.ProxyRequest, settings.ForwardClientHeader, state?.Principal.ClientId);
            state?.Forwarding?.ChangeRequest(transform.ProxyRequest);
            return ValueTask.CompletedTask;
        });
        context.AddXForwarded(ForwardedTransformActions.Off);
        context.AddResponseTransform(JudgeAsync);
    }

    /// <summary>Tells the FHIR server who asks, as the token says (a value that is not printable ASCII is percent-encoded).</summary>
    private static void Identify(HttpRequestMessage request, string? header, string? value)
    {
        if (header is not null && value is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value.All(c => c is >= ' ' and <= '~') ? value : Uri.EscapeDataString(value));
        }
    }

    private async ValueTask JudgeAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream)
        {
            return; // forwarding failed; the middleware answers with an OperationOutcome
        }

        context.SuppressResponseBody = true;
        var http = context.HttpContext;
        var current = http.Features.Get<RequestState>();
        if (current is { ForwardedAt: > 0 })
        {
            HearthTelemetry.UpstreamDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(current.ForwardedAt).TotalSeconds);
        }

        if (current is not { Forwarding: { } forwarding } state)
        {
            http.Response.Headers.Clear();
            await writer.WriteRefusalAsync(http, null, Refusal.Problem(403, "forbidden", "The request was not authorized."));
            return;
        }

        try
        {
            // The answer's body is pooled: judged and written before it goes back.
            using var answer = await UpstreamAnswer.ReadAsync(upstream, http.RequestAborted);
            var reply = await forwarding.JudgeAsync(answer, http.RequestAborted);
            await writer.WriteAsync(http, state, reply, afterForwarding: true);
            state.Cut = http.RequestAborted.IsCancellationRequested; // a write to a client gone may end without an error
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
        {
            if (Failures.IsExpected(e))
            {
                LogBadUpstream(logger, (int)upstream.StatusCode, e.Message);
            }
            else
            {
                LogFailed(logger, e);
            }

            await writer.WriteAsync(http, state, Failures.ToRefusal(e), afterForwarding: true);
        }
        catch (Exception e)
        {
            // The client went away, or the answer had started when something failed: nothing more can
            // be sent. Thrown on, YARP would clear a started response (itself an unhandled exception);
            // the connection is aborted instead, so that a cut answer never looks whole to the client.
            state.Cut = true;
            if (http.RequestAborted.IsCancellationRequested || e is IOException or OperationCanceledException)
            {
                LogCut(logger, e.GetType().Name);
            }
            else
            {
                LogFailed(logger, e); // not the connection: a fault of the gateway's, with its stack trace in the log only
            }

            http.Abort();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The answer was cut off after it had started, the connection gone: {Reason}")]
    private static partial void LogCut(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unusable answer from the FHIR server (status {Status}): {Reason}")]
    private static partial void LogBadUpstream(ILogger logger, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Authorizing a response failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
