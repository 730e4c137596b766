using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Hearth.Grains;
using Microsoft.AspNetCore.Http.Extensions;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Bulk Data export (<c>$export</c>) through Hearth:
/// <list type="bullet">
/// <item>kick-off: the token needs <c>bulk-export</c> for patient <c>"*"</c> on every requested
/// <c>_type</c> (see <see cref="PermissionSet.PlanExport"/>); the grants' and denies' labels become
/// <c>_typeFilter</c> queries; the FHIR server's status URL is kept by an export grain and the
/// client gets <c>{gateway}/_hearth/export/{id}</c> instead;</item>
/// <item>completion: when the FHIR server reports the export complete, Hearth reads every file
/// (streaming, line by line) and judges every line (action <c>bulk-export</c>) before it answers.
/// Its manifest is built from what the token may have: one file per type (all of the server's files
/// of that type as one), listed only when at least one line is permitted, with the count Hearth
/// computed; error files the same way; nothing else of the server's manifest (its counts,
/// extensions). So a manifest looks the same whether hidden lines existed or not. It is kept by
/// the export grain and answered from there on later polls;</item>
/// <item>files: only the token that started the export (by its hash) may poll, cancel or
/// download it; a file is streamed from the FHIR server's files, every line judged again, and
/// only the permitted lines are sent.</item>
/// </list>
/// </summary>
internal sealed class ExportAuthorizer(HearthSettings settings, ResponseFilter filter, ReferenceResolver resolver, IGrainFactory grains,
    IHttpClientFactory httpClients, TimeProvider time)
{
    /// <summary>Lines judged together (their patients resolved at once).</summary>
    private const int LinesPerChunk = 500;

    /// <summary>
    /// Before forwarding: null when the request may go to the FHIR server (rewritten as needed);
    /// else why not. Answered means Hearth answered it itself (a kept manifest, a file).
    /// </summary>
    public async Task<(WriteRefusal? Refusal, bool Answered)> PrepareAsync(HttpContext context, HearthRequestFeature feature)
    {
        var request = feature.Request;
        if (request.Interaction == FhirInteraction.BulkExport)
        {
            return (PrepareKickOff(context, feature), false);
        }

        var job = await grains.GetGrain<IExportGrain>(request.Id!).GetAsync();
        if (job is null || feature.TokenHash is not { } hash
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(job.OwnerTokenHash), Encoding.ASCII.GetBytes(hash)))
        {
            // The same answer whether the export does not exist or belongs to another token.
            return (new WriteRefusal(404, "not-found", "No export with this id was started with this access token."), false);
        }

        if (request.Interaction == FhirInteraction.ExportFile)
        {
            if (request.FileIndex is not { } index || index >= job.Files.Count)
            {
                return (new WriteRefusal(404, "not-found", "The export has no such file (poll its status for the manifest first)."), false);
            }

            await ServeFileAsync(context, feature, job.Files[index]);
            return (null, true);
        }

        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            if (job.Manifest is { } manifest)
            {
                context.Response.StatusCode = 200;
                await HearthResponses.WriteBodyAsync(context, "application/json", Encoding.UTF8.GetBytes(manifest));
                return (null, true);
            }
        }

        feature.UpstreamUri = new Uri(job.StatusUrl);
        return (null, false);
    }

    private WriteRefusal? PrepareKickOff(HttpContext context, HearthRequestFeature feature)
    {
        var http = context.Request;
        if (!http.Headers.TryGetValue("Prefer", out var prefer) || prefer.Count != 1 || !string.Equals(prefer[0]?.Trim(), "respond-async", StringComparison.OrdinalIgnoreCase))
        {
            return new WriteRefusal(400, "invalid", "A bulk export needs the header Prefer: respond-async.");
        }

        var types = QueryValues.Split(http.Query["_type"]);
        if (types.FirstOrDefault(t => !FhirModel.R4.IsResourceType(t)) is { } unknown)
        {
            return new WriteRefusal(400, "invalid", $"_type names '{unknown}', which is not a FHIR R4 resource type.");
        }

        var clientFilters = QueryValues.Split(http.Query["_typeFilter"]);
        var plan = feature.Permissions.PlanExport(types, clientFilters);
        if (plan.Error is { } error)
        {
            return new WriteRefusal(400, "invalid", error);
        }

        if (!plan.Permitted)
        {
            // No Unmet: the UMA ticket is what the request implies, every requested type with any
            // label (UmaTickets), as Pauldron registers an export.
            return WriteRefusal.NotPermitted;
        }

        var query = new QueryBuilder(http.Query.Where(p => p.Key != "_typeFilter").SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? ""))));
        foreach (var typeFilter in plan.TypeFilters)
        {
            query.Add("_typeFilter", typeFilter);
        }

        http.QueryString = query.ToQueryString();
        return null;
    }

    /// <summary>
    /// The answer to an export request, from the FHIR server's; null when the FHIR server's answer
    /// is an error that the ordinary error handling passes on.
    /// </summary>
    /// <exception cref="UpstreamException">The FHIR server answered something an export cannot be built from.</exception>
    public async Task<ExportAnswer?> AnswerAsync(HttpContext http, HearthRequestFeature feature, HttpResponseMessage upstream, int status, byte[] body)
    {
        if (status is < 200 or >= 300)
        {
            return null;
        }

        var request = feature.Request;
        switch (request.Interaction)
        {
            case FhirInteraction.BulkExport:
                if (status != 202)
                {
                    throw new UpstreamException($"The FHIR server answered {status} to a bulk export kick-off instead of 202 Accepted.");
                }

                var statusUrl = upstream.Content.Headers.ContentLocation?.ToString()
                    ?? (upstream.Headers.TryGetValues("Content-Location", out var values) ? values.FirstOrDefault() : null);
                var location = OnFhirServer(statusUrl) ?? throw new UpstreamException("The FHIR server's export status URL is missing or not on the FHIR server.");
                var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                await grains.GetGrain<IExportGrain>(id).StartAsync(new ExportJob(feature.TokenHash!, location));
                return new ExportAnswer(202, null, [], new() { ["Content-Location"] = feature.PublicBase + RequestClassifier.ExportPrefix + id });

            case FhirInteraction.ExportStatus when HttpMethods.IsDelete(http.Request.Method):
                await grains.GetGrain<IExportGrain>(request.Id!).ForgetAsync();
                return new ExportAnswer(202, null, [], []);

            case FhirInteraction.ExportStatus when status == 202:
                var progress = new Dictionary<string, string>();
                foreach (var header in new[] { "X-Progress", "Retry-After" })
                {
                    if (upstream.Headers.TryGetValues(header, out var value) && value.FirstOrDefault() is { Length: <= 100 } text && text.All(c => c is >= ' ' and <= '~'))
                    {
                        progress[header] = text;
                    }
                }

                return new ExportAnswer(202, null, [], progress);

            case FhirInteraction.ExportStatus when status == 200:
                return new ExportAnswer(200, "application/json", await ManifestAsync(feature, body, http.RequestAborted), []);

            default:
                throw new UpstreamException($"The FHIR server answered {status}, which Hearth does not expect here.");
        }
    }

    /// <summary>
    /// The manifest the token gets, built from what it may have (see the class). Every file of the
    /// FHIR server's manifest is read and judged first; the result is kept by the export grain.
    /// </summary>
    private async Task<byte[]> ManifestAsync(HearthRequestFeature feature, byte[] body, CancellationToken cancellationToken)
    {
        var upstream = FhirJson.TryParse(body) as JsonObject
            ?? throw new UpstreamException("The FHIR server's export manifest is not a JSON object.");

        // One file per type (the server may split a type into several), and one for all errors.
        var groups = new List<(string Type, List<string> Urls, bool Error)>();
        foreach (var list in new[] { "output", "error" })
        {
            if (upstream[list] is null)
            {
                continue;
            }

            if (upstream[list] is not JsonArray items)
            {
                throw new UpstreamException($"The export manifest's '{list}' is not a list.");
            }

            foreach (var item in items)
            {
                if (item is not JsonObject file || !ResourceInspector.TryGetString(file, "url", out var url) || OnFhirServer(url) is not { } upstreamUrl)
                {
                    throw new UpstreamException("An export manifest file URL is missing or not on the FHIR server.");
                }

                var type = list == "error" ? "OperationOutcome" : ResourceInspector.TryGetString(file, "type", out var t) && FhirModel.R4.IsResourceType(t) ? t
                    : throw new UpstreamException("An export manifest file has no resource type.");
                var index = groups.FindIndex(g => g.Type == type && g.Error == (list == "error"));
                if (index < 0)
                {
                    groups.Add((type, [upstreamUrl], list == "error"));
                }
                else
                {
                    groups[index].Urls.Add(upstreamUrl);
                }
            }
        }

        var files = new List<ExportFile>();
        var output = new JsonArray();
        var errors = new JsonArray();
        foreach (var (type, urls, error) in groups)
        {
            var count = await JudgeFilesAsync(urls, feature, write: null, cancellationToken);
            if (count == 0)
            {
                continue; // nothing the token may have: as if the FHIR server had written no such file
            }

            (error ? errors : output).Add(new JsonObject
            {
                ["type"] = type,
                ["url"] = feature.PublicBase + RequestClassifier.ExportPrefix + feature.Request.Id + "/file/" + files.Count,
                ["count"] = count,
            });
            files.Add(new ExportFile(type, urls, count));
        }

        var manifest = new JsonObject
        {
            ["transactionTime"] = upstream["transactionTime"]?.DeepClone(),
            ["request"] = upstream["request"]?.DeepClone(),
            ["requiresAccessToken"] = true,
            ["output"] = output,
            ["error"] = errors,
        };
        var text = UrlRewriter.Rewrite(manifest.ToJsonString(), settings.FhirServerBase, feature.PublicBase);
        await grains.GetGrain<IExportGrain>(feature.Request.Id!).CompleteAsync(files, text);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>
    /// Streams one of the manifest's files: every line of the FHIR server's files is judged again,
    /// and only permitted lines are sent, as they come. Nothing is sent after the token's exp; a
    /// failure after the first bytes ends the connection (the status was already sent).
    /// </summary>
    private async Task ServeFileAsync(HttpContext context, HearthRequestFeature feature, ExportFile file)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/fhir+ndjson";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        try
        {
            await JudgeFilesAsync(file.UpstreamUrls, feature, async lines =>
            {
                if (feature.ExpiresAt is { } exp && exp <= time.GetUtcNow())
                {
                    throw new UpstreamException("The access token expired during the download.");
                }

                foreach (var line in lines)
                {
                    await context.Response.Body.WriteAsync(line, context.RequestAborted);
                }
            }, context.RequestAborted);
        }
        catch (Exception) when (context.Response.HasStarted)
        {
            context.Abort(); // a client must not take a cut-off file for a whole one
        }
    }

    /// <summary>
    /// Reads the FHIR server's files line by line, judging them in chunks; returns how many lines
    /// are permitted, and gives them (rewritten, each ending in a line break) to <paramref name="write"/>.
    /// Any line that is not a FHIR resource fails the whole file.
    /// </summary>
    private async Task<long> JudgeFilesAsync(IReadOnlyList<string> urls, HearthRequestFeature feature, Func<List<byte[]>, Task>? write, CancellationToken cancellationToken)
    {
        long permitted = 0;
        var chunk = new List<(byte[] Line, ResourceFacts Facts)>(LinesPerChunk);
        async Task FlushAsync()
        {
            var resolved = await resolver.ResolveAsync(chunk.Select(c => c.Facts), cancellationToken);
            var kept = new List<byte[]>();
            foreach (var (line, facts) in chunk)
            {
                if (filter.Judge(facts, resolved, feature.Permissions, feature.Request.Action) == Decision.Permit)
                {
                    permitted++;
                    if (write is not null)
                    {
                        kept.Add(Encoding.UTF8.GetBytes(UrlRewriter.Rewrite(Encoding.UTF8.GetString(line), settings.FhirServerBase, feature.PublicBase) + "\n"));
                    }
                }
            }

            if (write is not null && kept.Count > 0)
            {
                await write(kept);
            }

            chunk.Clear();
        }

        foreach (var url in urls)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+ndjson"));

            // HEARTH_UPSTREAM_TIMEOUT_SECONDS for the answer to start, and again whenever it stalls.
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(settings.UpstreamTimeout);
            HttpResponseMessage response;
            try
            {
                response = await httpClients.CreateClient(StoredVersions.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new UpstreamException("The FHIR server could not be asked for an export file.");
            }

            using (response)
            {
                if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentEncoding.Count > 0)
                {
                    throw new UpstreamException($"The FHIR server answered {(int)response.StatusCode} for an export file.");
                }

                await using var stream = await response.Content.ReadAsStreamAsync(idle.Token);
                try
                {
                    await foreach (var raw in NdjsonLines.ReadAsync(stream, ResponseAuthorizer.MaxResponseBytes, idle.Token))
                    {
                        idle.CancelAfter(settings.UpstreamTimeout);
                        var line = FhirJson.Sanitize(raw);
                        var parsed = filter.Parse(line, judgeEntries: false)
                            ?? throw new UpstreamException("A line of the export file is not a FHIR JSON resource.");
                        chunk.Add((line, parsed.RootFacts));
                        if (chunk.Count == LinesPerChunk)
                        {
                            await FlushAsync();
                        }
                    }
                }
                catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    throw new UpstreamException("The FHIR server's export file was cut off or stalled.");
                }
            }
        }

        if (chunk.Count > 0)
        {
            await FlushAsync();
        }

        return permitted;
    }

    /// <summary>The URL when it is an absolute URL on the configured FHIR server, else null.</summary>
    private string? OnFhirServer(string? url)
        => url is not null && Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
           && url.StartsWith(settings.FhirServerBase + "/", StringComparison.Ordinal) && !url.Contains("/../", StringComparison.Ordinal)
            ? url
            : null;
}

/// <summary>What Hearth answers to an export request.</summary>
internal sealed record ExportAnswer(int Status, string? ContentType, byte[] Body, Dictionary<string, string> Headers);
