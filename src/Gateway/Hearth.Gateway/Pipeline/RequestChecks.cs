using Hearth.Authorization.Configuration;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// What a classified request asks besides its path, checked before anything else happens: a
/// search's form (read, bounded, forwarded as read), no body on a GET, bounded search parameters,
/// no method override, <c>_summary</c>/<c>_elements</c> Hearth can honour, a format it can answer
/// in. Nothing is forwarded when a check fails.
/// </summary>
internal static class RequestChecks
{
    /// <summary>Headers some servers read as "treat this request as another method".</summary>
    private static readonly string[] MethodOverrides = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"];

    public static async ValueTask<(RequestShape? Shape, Refusal? Refusal)> ReadAsync(HttpContext context, FhirRequest request, GatewaySettings settings)
    {
        // Most reads come without a query: its collection (a feature object of its own) is made only when there is one.
        IQueryCollection parameters = context.Request.QueryString.HasValue ? context.Request.Query : QueryCollection.Empty;
        if (request.FormSearch)
        {
            var (form, refusal) = await ReadSearchFormAsync(context, settings);
            if (refusal is not null)
            {
                return (null, refusal);
            }

            parameters = form!;
        }
        else if (!request.IsWrite && !request.IsBatch && !request.ByPost && (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0))
        {
            return (null, Refusal.Problem(400, "invalid", "A GET request must not have a body."));
        }

        // A search's cost grows with its lists (ids, element names, types): bounded before anything runs.
        // (Without parameters, as most reads come, there is nothing to bound, subset or refuse here.)
        var hasParameters = request.FormSearch || parameters.Count > 0;
        if (hasParameters && SearchLimits.Check(Named(request.FormSearch ? context.Request.Query.Concat(parameters) : parameters)) is { } tooCostly)
        {
            return (null, Refusal.Problem(400, "too-costly", tooCostly));
        }

        if (HasMethodOverride(context.Request.Headers) || (hasParameters && (parameters.ContainsKey("_method") || context.Request.Query.ContainsKey("_method"))))
        {
            return (null, Refusal.Problem(400, "security", "Method override headers and parameters are refused: send the real HTTP method."));
        }

        var (subsetting, subsettingRefusal) = hasParameters ? ReadSubsetting(context, request, parameters) : (null, null);
        if (subsettingRefusal is not null)
        {
            return (null, subsettingRefusal);
        }

        var (format, formatRefusal) = ReadFormat(context, request);
        return formatRefusal is not null ? (null, formatRefusal) : (new RequestShape(parameters, subsetting, format), null);
    }

    /// <summary>Query or form parameters as name → values, for the pure rules.</summary>
    private static bool HasMethodOverride(IHeaderDictionary headers)
    {
        foreach (var name in MethodOverrides)
        {
            if (headers.ContainsKey(name))
            {
                return true;
            }
        }

        return false;
    }

    public static IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> Named(IEnumerable<KeyValuePair<string, StringValues>> parameters)
        => parameters.Select(p => KeyValuePair.Create(p.Key, (IReadOnlyList<string>)p.Value.Select(v => v ?? "").ToList()));

    /// <summary>
    /// _elements/_summary never reach the FHIR server (it could leave out meta.security or the
    /// patient reference that the judgement needs): Hearth judges whole resources and subsets after.
    /// </summary>
    private static (Subsetting? Subsetting, Refusal? Refusal) ReadSubsetting(HttpContext context, FhirRequest request, IQueryCollection parameters)
    {
        if (request.IsWrite || request.IsBatch)
        {
            return (null, null);
        }

        var summary = context.Request.Query["_summary"].Concat(request.FormSearch ? parameters["_summary"] : []).Select(v => v ?? "").ToList();
        var elements = context.Request.Query["_elements"].Concat(request.FormSearch ? parameters["_elements"] : []).Select(v => v ?? "").ToList();
        var subsetting = Subsetting.Parse(summary, elements, out var error);
        if (error is not null)
        {
            return (null, Refusal.Problem(400, "not-supported", error));
        }

        return request.FormSearch && parameters.ContainsKey("_format")
            ? (null, Refusal.Problem(400, "not-supported", "Give _format in the query string, not in the search form."))
            : (subsetting, null);
    }

    /// <summary>FHIR JSON or FHIR XML (export status and files are JSON and NDJSON whatever the client accepts).</summary>
    private static (FhirFormat Format, Refusal? Refusal) ReadFormat(HttpContext context, FhirRequest request)
    {
        var format = request.IsExport ? FhirFormat.Json : RefusalWriter.ClientFormat(context.Request);
        if (format is not (FhirFormat.Invalid or FhirFormat.NotAcceptable))
        {
            return (format, null);
        }

        // Answered in JSON: the client's request names no format Hearth can produce.
        context.Request.Headers.Accept = "application/fhir+json";
        context.Request.Query = new QueryCollection();
        return (format, Refusal.Problem(format == FhirFormat.Invalid ? 400 : 406, "not-supported",
            "Hearth answers FHIR JSON (application/fhir+json) or FHIR XML (application/fhir+xml), one _format at most."));
    }

    /// <summary>
    /// POST [type]/_search: the parameters come as a form (bounded); it is forwarded as Hearth read
    /// it (encoded again, without _elements and _summary), so the FHIR server sees the parameters
    /// Hearth checked.
    /// </summary>
    private static async Task<(IQueryCollection? Form, Refusal? Refusal)> ReadSearchFormAsync(HttpContext context, GatewaySettings settings)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || type.MediaType.Value != "application/x-www-form-urlencoded")
        {
            return (null, Refusal.Problem(415, "not-supported", "POST _search takes its parameters as application/x-www-form-urlencoded."));
        }

        if (await RequestBodies.BufferAsync(context, settings.MaxRequestBytes) is not { } body)
        {
            return (null, RequestBodies.TooLarge(settings));
        }

        var form = new QueryCollection(QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body)));
        if (form.ContainsKey("access_token"))
        {
            return (null, new Refusal.MalformedAuthorization());
        }

        // Forwarded without _elements and _summary: Hearth subsets after judging.
        var kept = form.Where(p => p.Key is not ("_elements" or "_summary"))
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")));
        RequestBodies.Replace(context, System.Text.Encoding.UTF8.GetBytes(string.Join("&", kept)), contentType: null);
        return (form, null);
    }
}
