using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Grains.Abstractions;
using Microsoft.AspNetCore.Http.Extensions;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Bulk Data export (<c>$export</c>) through Hearth:
/// <list type="bullet">
/// <item>kick-off: the token needs <c>bulk-export</c> for patient <c>"*"</c> on every requested
/// <c>_type</c> (see <see cref="PermissionSet.PlanExport"/>); the grants' and denies' labels become
/// <c>_typeFilter</c> queries; the FHIR server's status URL is kept by an export grain and the
/// client gets <c>{gateway}/_hearth/export/{id}</c> instead;</item>
/// <item>completion: when the FHIR server reports the export complete, Hearth reads every file
/// and judges every line (<see cref="ExportFiles"/>) before it answers. Its manifest is built from
/// what the token may have: one file per type (all of the server's files of that type as one),
/// listed only when at least one line is permitted, with the count Hearth computed; error files the
/// same way; nothing else of the server's manifest. So a manifest looks the same whether hidden
/// lines existed or not. It is kept by the export grain and answered from there on later polls;</item>
/// <item>files: only the token that started the export (by its hash) may poll, cancel or
/// download it; a file is streamed from the FHIR server's files, every line judged again.</item>
/// </list>
/// </summary>
internal sealed class ExportAuthorizer(HearthSettings settings, ExportFiles files, IGrainFactory grains, WriteAuthorizer writes) : IInteractionAuthorizer
{
    public bool Handles(FhirRequest request) => request.IsExport;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var request = state.Request;
        if (request.Interaction == FhirInteraction.BulkExport)
        {
            var refusal = request.ByPost ? await OperationBodies.ReadExportKickOffAsync(writes, http) : null;
            return (refusal ?? KickOff(http, state)) is { } refused ? refused : Verdict.Forward(new Forwarding(this, state, null, Kind.KickOff));
        }

        var job = await grains.GetGrain<IExportGrain>(request.Id!).GetAsync();
        if (job is null || state.TokenHash is not { } hash
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(job.OwnerTokenHash), Encoding.ASCII.GetBytes(hash)))
        {
            // The same answer whether the export does not exist or belongs to another token.
            return Refusal.Problem(404, "not-found", "No export with this id was started with this access token.");
        }

        if (request.Interaction == FhirInteraction.ExportFile)
        {
            if (request.FileIndex is not { } index || index >= job.Files.Count)
            {
                return Refusal.Problem(404, "not-found", "The export has no such file (poll its status for the manifest first).");
            }

            ExportFiles.NoteObligations(state, [job.Files[index]]);
            return new Answer(200, "application/fhir+ndjson", ReadOnlyMemory<byte>.Empty) { IsFhirJson = false, Stream = (body, ct) => files.DownloadAsync(state, job.Files[index], body, ct) };
        }

        if (!HttpMethods.IsDelete(http.Request.Method) && job.Manifest is { } manifest)
        {
            ExportFiles.NoteObligations(state, job.Files);
            return new Answer(200, "application/json", Encoding.UTF8.GetBytes(manifest)) { IsFhirJson = false };
        }

        return Verdict.Forward(new Forwarding(this, state, new Uri(job.StatusUrl), HttpMethods.IsDelete(http.Request.Method) ? Kind.Cancel : Kind.Poll));
    }

    /// <summary>Checks the kick-off and rewrites its query with Hearth's <c>_typeFilter</c>s; a refusal, or null when it may go.</summary>
    private static Refusal? KickOff(HttpContext context, RequestState state)
    {
        var http = context.Request;
        if (!http.Headers.TryGetValue("Prefer", out var prefer) || prefer.Count != 1 || !string.Equals(prefer[0]?.Trim(), "respond-async", StringComparison.OrdinalIgnoreCase))
        {
            return Refusal.Problem(400, "invalid", "A bulk export needs the header Prefer: respond-async.");
        }

        var types = QueryValues.Split(http.Query["_type"]);
        if (types.FirstOrDefault(t => !FhirModel.R4.IsResourceType(t)) is { } unknown)
        {
            return Refusal.Problem(400, "invalid", $"_type names '{unknown}', which is not a FHIR R4 resource type.");
        }

        var plan = state.Permissions.PlanExport(types, QueryValues.Split(http.Query["_typeFilter"]));
        if (plan.Error is { } error)
        {
            return Refusal.Problem(400, "invalid", error);
        }

        if (!plan.Permitted)
        {
            // No Unmet: the UMA ticket is what the request implies, every requested type with any
            // label (UmaTickets), as Pauldron registers an export.
            return Refusal.NotPermitted([]);
        }

        var query = new QueryBuilder(http.Query.Where(p => p.Key != "_typeFilter").SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? ""))));
        foreach (var typeFilter in plan.TypeFilters)
        {
            query.Add("_typeFilter", typeFilter);
        }

        http.QueryString = query.ToQueryString();
        return null;
    }

    /// <summary>The answer to an export request, from the FHIR server's.</summary>
    private async Task<Reply> JudgeAsync(RequestState state, UpstreamAnswer upstream, Kind kind, CancellationToken cancellationToken)
    {
        if (!upstream.Succeeded)
        {
            return upstream.PassError();
        }

        var status = upstream.Status;
        switch (state.Request.Interaction)
        {
            case FhirInteraction.BulkExport when status != 202:
                throw new UpstreamException($"The FHIR server answered {status} to a bulk export kick-off instead of 202 Accepted.");
            case FhirInteraction.BulkExport:
                var statusUrl = upstream.Message.Content.Headers.ContentLocation?.ToString()
                    ?? (upstream.Message.Headers.TryGetValues("Content-Location", out var values) ? values.FirstOrDefault() : null);
                var location = OnFhirServer(statusUrl) ?? throw new UpstreamException("The FHIR server's export status URL is missing or not on the FHIR server.");
                var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                await grains.GetGrain<IExportGrain>(id).StartAsync(new ExportJob(state.TokenHash!, location));
                return StatusAnswer(202, null, [], new() { ["Content-Location"] = state.PublicBase + RequestClassifier.ExportPrefix + id });
            case FhirInteraction.ExportStatus when kind == Kind.Cancel:
                await grains.GetGrain<IExportGrain>(state.Request.Id!).ForgetAsync();
                return StatusAnswer(202, null, [], []);
            case FhirInteraction.ExportStatus when status == 202:
                return StatusAnswer(202, null, [], Progress(upstream.Message));
            case FhirInteraction.ExportStatus when status == 200:
                return StatusAnswer(200, "application/json", await ManifestAsync(state, upstream.Body, cancellationToken), []);
            default:
                throw new UpstreamException($"The FHIR server answered {status}, which Hearth does not expect here.");
        }
    }

    /// <summary>
    /// The manifest the token gets, built from what it may have (see the class). Every file of the
    /// FHIR server's manifest is read and judged first; the result is kept by the export grain.
    /// </summary>
    private async Task<byte[]> ManifestAsync(RequestState state, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var upstream = FhirJson.TryParse(body.Span) as JsonObject ?? throw new UpstreamException("The FHIR server's export manifest is not a JSON object.");
        var kept = new List<ExportFile>();
        var lists = new Dictionary<bool, JsonArray> { [false] = [], [true] = [] };
        foreach (var (type, urls, error) in Groups(upstream))
        {
            var ledger = state.Ledger?.Child();
            var count = await files.JudgeAsync(urls, state, write: null, ledger, cancellationToken);
            if (count == 0)
            {
                continue; // nothing the token may have: as if the FHIR server had written no such file
            }

            lists[error].Add(new JsonObject
            {
                ["type"] = type,
                ["url"] = state.PublicBase + RequestClassifier.ExportPrefix + state.Request.Id + "/file/" + kept.Count,
                ["count"] = count,
            });
            kept.Add(new ExportFile(type, urls, count) { BreaksTheGlass = ledger?.BrokeTheGlass ?? false, NoFurtherDisclosure = ledger?.MustNotDiscloseFurther ?? false });
        }

        var manifest = new JsonObject
        {
            ["transactionTime"] = upstream["transactionTime"]?.DeepClone(),
            ["request"] = upstream["request"]?.DeepClone(),
            ["requiresAccessToken"] = true,
            ["output"] = lists[false],
            ["error"] = lists[true],
        };
        var text = UrlRewriter.Rewrite(manifest.ToJsonString(FhirJson.Output), settings.FhirServer.Base, state.PublicBase);
        await grains.GetGrain<IExportGrain>(state.Request.Id!).CompleteAsync(kept, text);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>The server's files, one group per type (a server may split a type into several) and one for all errors.</summary>
    private List<(string Type, List<string> Urls, bool Error)> Groups(JsonObject manifest)
    {
        var groups = new List<(string Type, List<string> Urls, bool Error)>();
        foreach (var list in new[] { "output", "error" })
        {
            if (manifest[list] is null)
            {
                continue;
            }

            foreach (var item in manifest[list] as JsonArray ?? throw new UpstreamException($"The export manifest's '{list}' is not a list."))
            {
                if (item is not JsonObject file || !FhirElements.TryGetString(file, "url", out var url) || OnFhirServer(url) is not { } upstreamUrl)
                {
                    throw new UpstreamException("An export manifest file URL is missing or not on the FHIR server.");
                }

                var error = list == "error";
                var type = error ? "OperationOutcome" : FhirElements.TryGetString(file, "type", out var t) && FhirModel.R4.IsResourceType(t) ? t
                    : throw new UpstreamException("An export manifest file has no resource type.");
                var index = groups.FindIndex(g => g.Type == type && g.Error == error);
                if (index < 0)
                {
                    groups.Add((type, [upstreamUrl], error));
                }
                else
                {
                    groups[index].Urls.Add(upstreamUrl);
                }
            }
        }

        return groups;
    }

    /// <summary>An export's answer: the FHIR server's status headers are not passed on (only Hearth's and, while it runs, its progress).</summary>
    private static Answer StatusAnswer(int status, string? contentType, byte[] body, Dictionary<string, string> headers)
        => new(status, contentType, body) { IsFhirJson = false, Headers = headers, DropHeaders = ["Content-Location", "X-Progress", "Retry-After"] };

    private static Dictionary<string, string> Progress(HttpResponseMessage upstream)
    {
        var progress = new Dictionary<string, string>();
        foreach (var header in new[] { "X-Progress", "Retry-After" })
        {
            if (upstream.Headers.TryGetValues(header, out var value) && value.FirstOrDefault() is { Length: <= 100 } text && text.All(c => c is >= ' ' and <= '~'))
            {
                progress[header] = text;
            }
        }

        return progress;
    }

    /// <summary>The URL when it is an absolute URL on the configured FHIR server, else null.</summary>
    private string? OnFhirServer(string? url)
        => url is not null && Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
           && url.StartsWith(settings.FhirServer.Base + "/", StringComparison.Ordinal) && !url.Contains("/../", StringComparison.Ordinal)
            ? url
            : null;

    private enum Kind
    {
        KickOff,
        Poll,
        Cancel,
    }

    /// <summary>A kick-off asks for asynchronous processing; a status poll or cancel goes to the FHIR server's status URL, kept by the export grain.</summary>
    private sealed class Forwarding(ExportAuthorizer authorizer, RequestState state, Uri? statusUrl, Kind kind) : IForwarding
    {
        public void ChangeRequest(HttpRequestMessage request)
        {
            if (kind == Kind.KickOff)
            {
                request.Headers.TryAddWithoutValidation("Prefer", "respond-async");
            }

            if (statusUrl is not null)
            {
                request.RequestUri = statusUrl;
            }
        }

        public Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken) => authorizer.JudgeAsync(state, upstream, kind, cancellationToken);
    }
}
