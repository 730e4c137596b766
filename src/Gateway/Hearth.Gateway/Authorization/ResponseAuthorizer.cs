using System.Text.Json.Nodes;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Hearth.Grains;
using Hearth.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// The YARP response transform: reads the FHIR server's answer, judges every resource in it
/// against the token's permissions, and writes the whole response, a redacted Bundle, or a 403,
/// with the FHIR server's base replaced by the gateway's. The upstream body is never streamed
/// through unchecked.
/// </summary>
internal sealed partial class ResponseAuthorizer(
    HearthSettings settings,
    HearthResponses responses,
    ResponseFilter filter,
    ReferenceResolver resolver,
    ResponseJudge judge,
    BatchAuthorizer batches,
    ExportAuthorizer exports,
    Labeler labeler,
    CapabilityAugmenter capabilities,
    TimeProvider time,
    ILogger<ResponseAuthorizer> logger)
{
    /// <summary>Upstream bodies larger than this are refused (502) rather than buffered.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    private static readonly string[] DroppedHeaders = ["Content-Length", "Transfer-Encoding", "Content-Encoding", "Content-MD5", "Server", "X-Powered-By"];

    public async ValueTask TransformAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream)
        {
            return; // forwarding failed; the middleware answers with an OperationOutcome
        }

        context.SuppressResponseBody = true;
        var http = context.HttpContext;
        var feature = http.Features.Get<HearthRequestFeature>();
        try
        {
            if (feature is null)
            {
                await ReplaceAsync(http, 403, "forbidden", "The request was not authorized.");
                return;
            }

            await AuthorizeAsync(http, feature, upstream);
        }
        catch (UpstreamException e)
        {
            LogBadUpstream(logger, (int)upstream.StatusCode, e.Message);
            await ReplaceAsync(http, 502, "exception", e.Message);
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e))
        {
            LogClusterUnavailable(logger, e.GetType().Name);
            await ReplaceAsync(http, 503, "transient", "Hearth's cluster is unavailable. Try again later.");
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            LogFailed(logger, e);
            await ReplaceAsync(http, 500, "exception", "Hearth could not process this request.");
        }
    }

    private async Task AuthorizeAsync(HttpContext http, HearthRequestFeature feature, HttpResponseMessage upstream)
    {
        var status = (int)upstream.StatusCode;
        var body = await ReadBodyAsync(upstream, http.RequestAborted);
        var isJson = IsJsonContentType(upstream);

        if (feature.Request.IsPublicMetadata)
        {
            if (status is < 200 or >= 300)
            {
                await PassErrorAsync(http, feature, status, body, isJson);
                return;
            }

            if (!isJson)
            {
                throw new UpstreamException("The FHIR server did not answer this metadata request with JSON.");
            }

            if (feature.Request.Interaction == FhirInteraction.Capabilities && settings.AugmentCapabilityStatement)
            {
                var statement = FhirJson.TryParse(body) as JsonObject ?? throw new UpstreamException("The FHIR server's CapabilityStatement is not JSON.");
                if (capabilities.Apply(statement))
                {
                    await WriteAsync(http, feature, statement.ToJsonString(), keepValidators: false);
                    return;
                }
            }

            await WriteAsync(http, feature, Encoding.UTF8.GetString(body), keepValidators: true);
            return;
        }

        if (feature.Request.IsExport && await exports.AnswerAsync(http, feature, upstream, status, body) is { } answer)
        {
            RewriteHeaders(http, feature, keepValidators: false);
            http.Response.Headers.ContentLocation = default;
            http.Response.Headers.Remove("X-Progress");
            http.Response.Headers.RetryAfter = default;
            http.Response.StatusCode = answer.Status;
            foreach (var (name, value) in answer.Headers)
            {
                http.Response.Headers[name] = value;
            }

            await ServeAsync(http, feature, answer.ContentType, answer.Body);
            return;
        }

        if (status is < 200 or >= 300)
        {
            await PassErrorAsync(http, feature, status, body, isJson);
            return;
        }

        if (feature.Request.IsWrite)
        {
            await WriteResultAsync(http, feature, body, isJson);
            return;
        }

        if (feature.Batch is { } plan)
        {
            var judged = (isJson ? await batches.JudgeResponseAsync(body, plan, feature.Permissions) : null)
                ?? throw new UpstreamException("The FHIR server's answer to the batch cannot be matched to its entries.");
            if (judged is JsonObject judgedBundle)
            {
                labeler.Apply(judgedBundle);
            }

            await WriteAsync(http, feature, judged.ToJsonString(), keepValidators: false);
            return;
        }

        var parsed = isJson ? filter.Parse(body, judgeEntries: !feature.Request.ReturnsSingleResource) : null;
        if (parsed is null)
        {
            throw new UpstreamException("The FHIR server's answer is not a FHIR JSON resource, so it cannot be authorized.");
        }

        var result = await judge.JudgeAsync(parsed, feature.Permissions, feature.Request.Action);
        HearthTelemetry.Responses.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant()));
        LogDecision(logger, feature.Request.Interaction.ToString(), feature.Request.ResourceType, result.Outcome, result.Kept, result.Removed,
            feature.TokenHash is null ? "-" : TokenKey.ForLog(feature.TokenHash));

        // A read by id that is not permitted is refused; so is a search whose entries were all
        // removed, unless HEARTH_SEARCH_ALL_REMOVED=empty (OAuth mode's default): then it is served
        // empty, as if nothing had matched, with its paging links (a later page may hold more).
        if (result.Outcome == FilterOutcome.Denied || (result.Outcome == FilterOutcome.Emptied && settings.SearchAllRemoved == SearchAllRemoved.Forbidden))
        {
            http.Response.Headers.Clear();
            await responses.InsufficientAsync(http, feature.Request, result.Unmet);
            return;
        }

        // parsed.Root is what the filter left (result.Body is its text when the filter changed it).
        var labeled = labeler.Apply(parsed.Root);
        var json = labeled ? parsed.Root.ToJsonString() : result.Body ?? Encoding.UTF8.GetString(body);

        if (feature.Subsetting is { } subsetting)
        {
            try
            {
                json = subsetting.Apply(json, entries: parsed.Entries is not null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new UpstreamException("The FHIR server's answer cannot be subsetted as _summary/_elements ask.");
            }
        }

        await WriteAsync(http, feature, json, keepValidators: result.Body is null && feature.Subsetting is null && !labeled);
    }

    /// <summary>
    /// A write the FHIR server accepted. What is cached of the written resource (a Patient's
    /// identifiers, a security context's facts) is forgotten cluster-wide. The answer's resource (if any) is shown only if the token may read it;
    /// otherwise the client learns that the write succeeded, and where (Location), not what.
    /// </summary>
    private async Task WriteResultAsync(HttpContext http, HearthRequestFeature feature, byte[] body, bool isJson)
    {
        var request = feature.Request;
        if (request is { ResourceType: { } type, Id: { } id })
        {
            await resolver.InvalidateAsync(type + "/" + id);
        }

        if (body.Length == 0)
        {
            RewriteHeaders(http, feature, keepValidators: true);
            http.Response.Headers.ContentType = default;
            return;
        }

        var parsed = isJson ? filter.Parse(body, judgeEntries: false) : null;
        if (parsed is null)
        {
            throw new UpstreamException("The FHIR server accepted the write but answered with something that is not FHIR JSON.");
        }

        if (parsed.RootFacts.ResourceType == "OperationOutcome")
        {
            await WriteAsync(http, feature, Encoding.UTF8.GetString(body), keepValidators: true);
            return;
        }

        if ((await judge.JudgeAsync(parsed, feature.Permissions, "read")).Outcome == FilterOutcome.Permitted)
        {
            await WriteAsync(http, feature, Encoding.UTF8.GetString(body), keepValidators: true);
            return;
        }

        await WriteAsync(http, feature, OperationOutcomes.CreateString("informational",
            "The write succeeded; this token may not read the resource, so it is not shown.", "information"), keepValidators: true);
    }

    /// <summary>An error from the FHIR server: its OperationOutcome passes (rewritten); anything else is replaced.</summary>
    private async Task PassErrorAsync(HttpContext http, HearthRequestFeature feature, int status, byte[] body, bool isJson)
    {
        if (status == 304)
        {
            await ReplaceAsync(http, 502, "exception", "The FHIR server answered 304 to an unconditional request.");
            return;
        }

        if (isJson && filter.Parse(body, judgeEntries: false) is { RootFacts.ResourceType: "OperationOutcome" })
        {
            await WriteAsync(http, feature, Encoding.UTF8.GetString(body), keepValidators: false);
            return;
        }

        if (status >= 500)
        {
            await ReplaceAsync(http, 502, "exception", $"The FHIR server failed with status {status}.");
            return;
        }

        var code = status == 404 ? "not-found" : status is 401 or 403 ? "security" : "processing";
        await ReplaceAsync(http, status, code, $"The FHIR server answered {status}.");
    }

    private async Task WriteAsync(HttpContext http, HearthRequestFeature feature, string json, bool keepValidators)
    {
        RewriteHeaders(http, feature, keepValidators);
        var rewritten = UrlRewriter.Rewrite(json, settings.FhirServerBase, feature.PublicBase);
        var contentType = OperationOutcomes.ContentType;
        if (feature.ResponseFormat == FhirFormat.Xml && rewritten.Length > 0)
        {
            try
            {
                rewritten = FhirFormats.JsonToXml(rewritten);
            }
            catch (FormatException)
            {
                throw new UpstreamException("The FHIR server's answer cannot be converted to FHIR XML.");
            }

            contentType = FhirFormats.XmlContentType;
        }

        await ServeAsync(http, feature, contentType, Encoding.UTF8.GetBytes(rewritten));
    }

    /// <summary>
    /// Every body Hearth serves from the FHIR server's answer goes out here: never after the
    /// token's exp (it may pass while the FHIR server or the judging takes its time).
    /// </summary>
    private async Task ServeAsync(HttpContext http, HearthRequestFeature feature, string? contentType, byte[] body)
    {
        if (feature.ExpiresAt is { } exp && exp <= time.GetUtcNow())
        {
            http.Response.Headers.Clear();
            await responses.InvalidTokenAsync(http, feature.Request);
            return;
        }

        await HearthResponses.WriteBodyAsync(http, contentType, body);
    }

    /// <summary>Drops hop and server headers, and points Location / Content-Location at the gateway.</summary>
    private void RewriteHeaders(HttpContext http, HearthRequestFeature feature, bool keepValidators)
    {
        var headers = http.Response.Headers;
        foreach (var name in DroppedHeaders)
        {
            headers.Remove(name);
        }

        if (!keepValidators)
        {
            headers.ETag = default;
            headers.LastModified = default;
        }

        foreach (var name in new[] { "Location", "Content-Location" })
        {
            if (headers.TryGetValue(name, out var value) && value.Count == 1)
            {
                headers[name] = UrlRewriter.RewriteHeader(value[0]!, settings.FhirServerBase, feature.PublicBase);
            }
            else if (value.Count > 1)
            {
                headers.Remove(name);
            }
        }
    }

    private static Task ReplaceAsync(HttpContext http, int status, string code, string diagnostics)
    {
        http.Response.Headers.Clear();
        return HearthResponses.WriteOutcomeAsync(http, status, code, diagnostics);
    }

    private static bool IsJsonContentType(HttpResponseMessage upstream)
    {
        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        return mediaType is "application/fhir+json" or "application/json" or "application/json+fhir";
    }

    private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage upstream, CancellationToken cancellationToken)
    {
        var encodings = upstream.Content.Headers.ContentEncoding;
        if (encodings.Count > 0 && encodings.Any(e => !string.Equals(e, "identity", StringComparison.OrdinalIgnoreCase)))
        {
            throw new UpstreamException("The FHIR server sent a compressed body although none was asked for.");
        }

        if (upstream.Content.Headers.ContentLength > MaxResponseBytes)
        {
            throw new UpstreamException("The FHIR server's answer is too large to authorize.");
        }

        byte[]? body;
        try
        {
            await using var stream = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            body = await RequestBodies.ReadAtMostAsync(stream, MaxResponseBytes, cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new UpstreamException("The FHIR server's answer was cut off.");
        }

        // What the FHIR server holds is served even when it is not valid Unicode (invalid UTF-8, a
        // lone surrogate escaped): replaced, so that one bad resource never fails anyone's answer.
        return FhirJson.Sanitize(body ?? throw new UpstreamException("The FHIR server's answer is too large to authorize."));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Interaction} {ResourceType}: {Outcome}, kept {Kept}, removed {Removed} (token {TokenHash})")]
    private static partial void LogDecision(ILogger logger, string interaction, string? resourceType, FilterOutcome outcome, int kept, int removed, string tokenHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unusable answer from the FHIR server (status {Status}): {Reason}")]
    private static partial void LogBadUpstream(ILogger logger, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Authorizing a response failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Orleans cluster is unavailable ({ExceptionType})")]
    private static partial void LogClusterUnavailable(ILogger logger, string exceptionType);
}
