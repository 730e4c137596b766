using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
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
/// <item>status and files: only the token that started the export (by its hash) may poll, cancel
/// or download it; the manifest's file URLs point at <c>{gateway}/_hearth/export/{id}/file/{n}</c>;
/// every line of a file is judged (action <c>bulk-export</c>) and lines the token may not have are
/// left out, so denies of particular patients and anything the filters could not say still hold.</item>
/// </list>
/// </summary>
internal sealed class ExportAuthorizer(HearthSettings settings, ResponseFilter filter, PatientResolver resolver, IGrainFactory grains)
{
    /// <summary>Before forwarding: null when the request may go to the FHIR server (rewritten as needed); else why not.</summary>
    public async Task<WriteRefusal?> PrepareAsync(HttpContext context, HearthRequestFeature feature)
    {
        var request = feature.Request;
        if (request.Interaction == FhirInteraction.BulkExport)
        {
            return PrepareKickOff(context, feature);
        }

        var job = await grains.GetGrain<IExportGrain>(request.Id!).GetAsync();
        if (job is null || feature.TokenHash is not { } hash
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(job.OwnerTokenHash), Encoding.ASCII.GetBytes(hash)))
        {
            // The same answer whether the export does not exist or belongs to another token.
            return new WriteRefusal(404, "not-found", "No export with this id was started with this access token.");
        }

        if (request.Interaction == FhirInteraction.ExportFile)
        {
            if (request.FileIndex is not { } index || index >= job.FileUrls.Count)
            {
                return new WriteRefusal(404, "not-found", "The export has no such file (poll its status for the manifest first).");
            }

            feature.UpstreamUri = new Uri(job.FileUrls[index]);
        }
        else
        {
            feature.UpstreamUri = new Uri(job.StatusUrl);
        }

        return null;
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
                await grains.GetGrain<IExportGrain>(id).StartAsync(new ExportJob(feature.TokenHash!, location, []));
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
                return new ExportAnswer(200, "application/json", await ManifestAsync(feature, body), []);

            case FhirInteraction.ExportFile when status == 200:
                return new ExportAnswer(200, "application/fhir+ndjson", await JudgeFileAsync(feature, body), []);

            default:
                throw new UpstreamException($"The FHIR server answered {status}, which Hearth does not expect here.");
        }
    }

    /// <summary>The completion manifest, its file URLs replaced by the gateway's (the FHIR server's are kept by the grain).</summary>
    private async Task<byte[]> ManifestAsync(HearthRequestFeature feature, byte[] body)
    {
        var manifest = FhirJson.TryParse(body) as JsonObject
            ?? throw new UpstreamException("The FHIR server's export manifest is not a JSON object.");

        var files = new List<string>();
        foreach (var list in new[] { "output", "error" })
        {
            if (manifest[list] is null)
            {
                continue;
            }

            if (manifest[list] is not JsonArray items)
            {
                throw new UpstreamException($"The export manifest's '{list}' is not a list.");
            }

            foreach (var item in items)
            {
                if (item is not JsonObject file || !ResourceInspector.TryGetString(file, "url", out var url) || OnFhirServer(url) is not { } upstreamUrl)
                {
                    throw new UpstreamException("An export manifest file URL is missing or not on the FHIR server.");
                }

                file["url"] = feature.PublicBase + RequestClassifier.ExportPrefix + feature.Request.Id + "/file/" + files.Count;
                files.Add(upstreamUrl);
            }
        }

        await grains.GetGrain<IExportGrain>(feature.Request.Id!).SetFilesAsync(files);
        manifest["requiresAccessToken"] = true;
        return Encoding.UTF8.GetBytes(UrlRewriter.Rewrite(manifest.ToJsonString(), settings.FhirServerBase, feature.PublicBase));
    }

    /// <summary>Keeps the lines of an NDJSON file that the token may have; any line that is not a FHIR resource fails the file.</summary>
    private async Task<byte[]> JudgeFileAsync(HearthRequestFeature feature, byte[] body)
    {
        var lines = new List<(string Text, ResourceFacts Facts)>();
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n'))
        {
            var text = line.TrimEnd('\r');
            if (text.Length == 0)
            {
                continue;
            }

            var parsed = filter.Parse(Encoding.UTF8.GetBytes(text), judgeEntries: false)
                ?? throw new UpstreamException("A line of the export file is not a FHIR JSON resource.");
            lines.Add((text, parsed.RootFacts));
        }

        var patients = await resolver.ResolveAsync(lines.SelectMany(l => l.Facts.PatientReferences));
        var kept = new StringBuilder();
        foreach (var (text, facts) in lines)
        {
            if (filter.Judge(facts, reference => patients.GetValueOrDefault(reference), feature.Permissions, feature.Request.Action) == Decision.Permit)
            {
                kept.Append(UrlRewriter.Rewrite(text, settings.FhirServerBase, feature.PublicBase)).Append('\n');
            }
        }

        return Encoding.UTF8.GetBytes(kept.ToString());
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
