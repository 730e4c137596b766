using Hearth.Authorization.Responses;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Gateway.Formats;
using Hearth.Grains;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Runs inside the YARP pipeline before forwarding: classifies the request (refusing what it
/// cannot classify), checks the bearer token through its TokenGrain, and after forwarding turns
/// upstream failures into OperationOutcomes. The response itself is judged by <see cref="ResponseAuthorizer"/>.
/// </summary>
internal sealed partial class HearthAuthorizationMiddleware(
    RequestDelegate next,
    HearthSettings settings,
    HearthResponses responses,
    IGrainFactory grains,
    WriteAuthorizer writes,
    BatchAuthorizer batches,
    ExportAuthorizer exports,
    CapabilityAugmenter capabilities,
    TimeProvider time,
    ILogger<HearthAuthorizationMiddleware> logger)
{
    /// <summary>Headers and parameters some servers read as "treat this request as another method".</summary>
    private static readonly string[] MethodOverrides = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (settings.BasePath.Length > 0 && !context.Request.PathBase.Equals(settings.BasePath, StringComparison.OrdinalIgnoreCase))
        {
            await HearthResponses.WriteOutcomeAsync(context, 404, "not-found", $"The FHIR API is served under {settings.BasePath}.");
            return;
        }

        var rawPath = RawPath(context);
        var classification = RequestClassifier.Classify(context.Request.Method, rawPath, settings.AllowedOperations);
        if (classification.Request is not { } request)
        {
            LogRefused(logger, context.Request.Method, classification.Status, classification.Diagnostics);
            await HearthResponses.WriteOutcomeAsync(context, classification.Status, classification.IssueCode, classification.Diagnostics);
            return;
        }

        var parameters = context.Request.Query;
        if (request.FormSearch)
        {
            if (await ReadSearchFormAsync(context) is not { } form)
            {
                return;
            }

            parameters = form;
        }
        else if (!request.IsWrite && !request.IsBatch && (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0))
        {
            await HearthResponses.WriteOutcomeAsync(context, 400, "invalid", "A GET request must not have a body.");
            return;
        }

        // A search's cost grows with its lists (ids, element names, types): bounded before anything runs.
        var limited = request.FormSearch ? context.Request.Query.Concat(parameters) : context.Request.Query;
        if (SearchLimits.Check(Named(limited)) is { } tooCostly)
        {
            await HearthResponses.WriteOutcomeAsync(context, 400, "too-costly", tooCostly);
            return;
        }

        if (MethodOverrides.Any(context.Request.Headers.ContainsKey) || parameters.ContainsKey("_method") || context.Request.Query.ContainsKey("_method"))
        {
            await HearthResponses.WriteOutcomeAsync(context, 400, "security", "Method override headers and parameters are refused: send the real HTTP method.");
            return;
        }

        // _elements/_summary never reach the FHIR server (it could leave out meta.security or the
        // patient reference that the judgement needs): Hearth judges whole resources and subsets after.
        Subsetting? subsetting = null;
        if (!request.IsWrite && !request.IsBatch)
        {
            var summary = context.Request.Query["_summary"].Concat(request.FormSearch ? parameters["_summary"] : []).Select(v => v ?? "").ToList();
            var elements = context.Request.Query["_elements"].Concat(request.FormSearch ? parameters["_elements"] : []).Select(v => v ?? "").ToList();
            subsetting = Subsetting.Parse(summary, elements, out var subsettingError);
            if (subsettingError is not null)
            {
                await HearthResponses.WriteOutcomeAsync(context, 400, "not-supported", subsettingError);
                return;
            }
        }

        if (request.FormSearch && parameters.ContainsKey("_format"))
        {
            await HearthResponses.WriteOutcomeAsync(context, 400, "not-supported", "Give _format in the query string, not in the search form.");
            return;
        }

        // Export status and files are JSON and NDJSON whatever the client accepts.
        var format = request.IsExport ? FhirFormat.Json : HearthResponses.ClientFormat(context.Request);
        if (format is FhirFormat.Invalid or FhirFormat.NotAcceptable)
        {
            // Answered in JSON: the client's request names no format Hearth can produce.
            context.Request.Headers.Accept = "application/fhir+json";
            context.Request.Query = new QueryCollection();
            await HearthResponses.WriteOutcomeAsync(context, format == FhirFormat.Invalid ? 400 : 406, "not-supported",
                "Hearth answers FHIR JSON (application/fhir+json) or FHIR XML (application/fhir+xml), one _format at most.");
            return;
        }

        if (request.Interaction == FhirInteraction.SmartConfiguration && settings.AugmentCapabilityStatement)
        {
            // With the CapabilityStatement augmented, the SMART configuration describes the
            // authorization server Hearth enforces, not the FHIR server: Hearth answers it.
            context.Response.StatusCode = 200;
            await HearthResponses.WriteBodyAsync(context, "application/json", System.Text.Encoding.UTF8.GetBytes(capabilities.SmartConfiguration().ToJsonString()));
            return;
        }

        HearthRequestFeature feature;
        if (request.IsPublicMetadata || IsUnprotected(request))
        {
            // No token needed; protected resources that still come back (e.g. through _include) are removed.
            feature = new HearthRequestFeature(request, PermissionSet.Empty, null, null);
        }
        else
        {
            var authorization = context.Request.Headers.Authorization;
            if (context.Request.Query.TryGetValue("access_token", out var queryToken))
            {
                // RFC 6750 §2.3 puts tokens where logs and Referer headers see them: refused unless configured.
                if (!settings.AllowQueryTokens || authorization.Count > 0 || queryToken.Count != 1)
                {
                    await responses.NoTokenAsync(context, malformed: true);
                    return;
                }

                authorization = "Bearer " + queryToken[0];
            }

            var status = BearerToken.Read(authorization, out var token);
            if (status != BearerTokenStatus.Present)
            {
                await responses.NoTokenAsync(context, status == BearerTokenStatus.Malformed, request, parameters);
                return;
            }

            var tokenHash = TokenKey.Hash(token);
            TokenInfo info;
            try
            {
                info = await grains.GetGrain<ITokenGrain>(tokenHash).IntrospectAsync(new SecretToken(token));
            }
            catch (Exception e) when (ClusterFailures.IsTransient(e))
            {
                LogClusterUnavailable(logger, e.GetType().Name);
                await HearthResponses.WriteOutcomeAsync(context, 503, "transient", "Hearth's cluster is unavailable. Try again later.");
                return;
            }

            if (info.Status == TokenStatus.Unavailable)
            {
                await responses.AuthorizationServerUnavailableAsync(context);
                return;
            }

            if (info.Status != TokenStatus.Active || info.ExpiresAt <= time.GetUtcNow())
            {
                LogInactive(logger, TokenKey.ForLog(tokenHash));
                await responses.InvalidTokenAsync(context, request, parameters);
                return;
            }

            feature = new HearthRequestFeature(request, ParsedPermissions.For(info.PermissionsJson), info.ExpiresAt, tokenHash);
        }

        // Criteria that look at other resources (chains, _has, _filter, ...) only over what the token may read.
        if (!request.IsWrite && !request.IsBatch
            && SearchCriteria.Unreadable(request.ResourceType, Named(limited), feature.Permissions, settings) is { } criterion)
        {
            LogCriterionRefused(logger, criterion.Types is null ? "*" : string.Join(",", criterion.Types));
            await responses.CriterionRefusedAsync(context, criterion.Parameter, criterion.Types);
            return;
        }

        feature.PublicBase = HearthRequestFeature.PublicBaseOf(context, settings);
        feature.ResponseFormat = format;
        feature.Subsetting = subsetting;
        if (request.IsWrite && !await AuthorizeWriteAsync(context, feature))
        {
            return;
        }

        if (request.IsBatch && !await AuthorizeBatchAsync(context, feature))
        {
            return;
        }

        if (request.IsExport && !await DecideAsync(context, feature, () => exports.PrepareAsync(context, feature)))
        {
            return;
        }

        context.Features.Set(feature);
        await next(context);

        var error = context.GetForwarderErrorFeature();
        if (error is not null && !context.Response.HasStarted)
        {
            LogUpstreamError(logger, error.Error, error.Exception?.GetType().Name);
            context.Response.Clear();
            if (error.Error == ForwarderError.RequestTimedOut)
            {
                await HearthResponses.WriteOutcomeAsync(context, 504, "timeout", "The FHIR server did not answer in time.");
            }
            else
            {
                await HearthResponses.WriteOutcomeAsync(context, 502, "transient", "The FHIR server could not be reached or gave no usable answer.");
            }
        }
    }

    /// <summary>Decides every entry of a batch or transaction; false when it answered instead.</summary>
    private Task<bool> AuthorizeBatchAsync(HttpContext context, HearthRequestFeature feature)
        => DecideAsync(context, feature, async () =>
        {
            var (plan, refusal) = await batches.AuthorizeAsync(context, feature, feature.Permissions);
            if (plan is { Forwarded.Count: 0, Count: > 0 })
            {
                await BatchAuthorizer.AnswerWithoutForwardingAsync(context, plan);
                return (null, true);
            }

            feature.Batch = plan;
            return (refusal, false);
        });

    /// <summary>Decides a write before forwarding; false when it answered instead (refusal or failure).</summary>
    private Task<bool> AuthorizeWriteAsync(HttpContext context, HearthRequestFeature feature)
        => DecideAsync(context, feature, async () => (await writes.AuthorizeAsync(context, feature, feature.Permissions), false));

    /// <summary>Runs a decision; answers refusals and failures. True when the request may be forwarded.</summary>
    private async Task<bool> DecideAsync(HttpContext context, HearthRequestFeature feature, Func<Task<(WriteRefusal? Refusal, bool Answered)>> decide)
    {
        WriteRefusal? refusal;
        try
        {
            (refusal, var answered) = await decide();
            if (answered)
            {
                return false;
            }
        }
        catch (UpstreamException e)
        {
            LogUpstreamError(logger, ForwarderError.Request, e.Message);
            await HearthResponses.WriteOutcomeAsync(context, 502, "exception", e.Message);
            return false;
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e))
        {
            LogClusterUnavailable(logger, e.GetType().Name);
            await HearthResponses.WriteOutcomeAsync(context, 503, "transient", "Hearth's cluster is unavailable. Try again later.");
            return false;
        }

        if (refusal is null)
        {
            return true;
        }

        LogWriteRefused(logger, feature.Request.Interaction.ToString(), feature.Request.ResourceType, refusal.Status,
            feature.TokenHash is null ? "-" : TokenKey.ForLog(feature.TokenHash));
        if (refusal.Insufficient)
        {
            await responses.InsufficientAsync(context, feature.Request, refusal.Unmet);
        }
        else
        {
            await HearthResponses.WriteOutcomeAsync(context, refusal.Status, refusal.IssueCode, refusal.Diagnostics);
        }

        return false;
    }

    /// <summary>
    /// POST [type]/_search: the parameters come as a form (bounded); it is forwarded as Hearth read
    /// it (encoded again, without _elements and _summary), so the FHIR server sees the parameters
    /// Hearth checked. Null when the request was answered (wrong media type, too large, a token in it).
    /// </summary>
    private async Task<IQueryCollection?> ReadSearchFormAsync(HttpContext context)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || type.MediaType.Value != "application/x-www-form-urlencoded")
        {
            await HearthResponses.WriteOutcomeAsync(context, 415, "not-supported", "POST _search takes its parameters as application/x-www-form-urlencoded.");
            return null;
        }

        if (await RequestBodies.BufferAsync(context, settings.MaxRequestBytes) is not { } body)
        {
            await HearthResponses.WriteOutcomeAsync(context, 413, "too-costly", $"The request body is larger than {settings.MaxRequestBytes} bytes.");
            return null;
        }

        var form = new QueryCollection(QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body)));
        if (form.ContainsKey("access_token"))
        {
            await responses.NoTokenAsync(context, malformed: true);
            return null;
        }

        // Forwarded without _elements and _summary: Hearth subsets after judging.
        var kept = form.Where(p => p.Key is not ("_elements" or "_summary"))
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")));
        RequestBodies.Replace(context, System.Text.Encoding.UTF8.GetBytes(string.Join("&", kept)), contentType: null);
        return form;
    }

    /// <summary>
    /// UNPROTECTED_RESOURCE_TYPES need no token for interactions on the type itself (never for
    /// compartment searches, system-level interactions or operations). A write is still checked:
    /// body and stored version must both be of that unprotected type.
    /// </summary>
    private bool IsUnprotected(FhirRequest request)
        => request.ResourceType is { } type
        && settings.UnprotectedResourceTypes.Contains(type)
        && request.Interaction is FhirInteraction.Read or FhirInteraction.VRead or FhirInteraction.SearchType
            or FhirInteraction.HistoryType or FhirInteraction.HistoryInstance
            or FhirInteraction.Create or FhirInteraction.Update or FhirInteraction.Patch or FhirInteraction.Delete;

    /// <summary>Query or form parameters as name → values, for the pure rules.</summary>
    private static IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> Named(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters)
        => parameters.Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)p.Value.Select(v => v ?? "").ToList()));

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
    private static partial void LogWriteRefused(ILogger logger, string interaction, string? resourceType, int status, string tokenHash);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a search criterion that looks at {Types} resources the token may not all read")]
    private static partial void LogCriterionRefused(ILogger logger, string types);

    [LoggerMessage(Level = LogLevel.Information, Message = "Token {TokenHash} is not active")]
    private static partial void LogInactive(ILogger logger, string tokenHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Orleans cluster is unavailable ({ExceptionType})")]
    private static partial void LogClusterUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding failed: {Error} ({ExceptionType})")]
    private static partial void LogUpstreamError(ILogger logger, ForwarderError error, string? exceptionType);
}
