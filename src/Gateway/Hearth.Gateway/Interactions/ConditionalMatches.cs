using System.Net;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Resolves a conditional interaction's criteria with the token's view: Hearth searches the FHIR
/// server itself (the criteria as it read them, pages of <see cref="PageSize"/>) and keeps the
/// matches the token may find by a search (judged like any search's entries). Hidden matches are
/// skipped and never counted, so what follows depends only on what the token may see. At most
/// <see cref="MaxPages"/> pages are read: criteria that match more resources are refused (as a
/// search shows, by its next link, that more pages exist).
/// </summary>
internal sealed class ConditionalMatches(HearthSettings settings, ResponseFilter filter, Adjudicator adjudicator, ReferenceResolver resolver, StoredVersions stored)
{
    public const int PageSize = 100;
    public const int MaxPages = 10;

    /// <summary>The ids of the visible matches, up to <paramref name="enough"/>; or why the criteria cannot be resolved.</summary>
    /// <exception cref="UpstreamException">The FHIR server could not be asked, or answered something unusable.</exception>
    public async Task<(IReadOnlyList<string> Visible, Refusal? Refusal)> FindAsync(ConditionalCriteria criteria, PermissionSet permissions, int enough, CancellationToken cancellationToken)
    {
        var fhirBase = settings.FhirServer.Base;
        var url = $"{fhirBase}/{criteria.ResourceType}?{criteria.Query}&_count={PageSize}";
        var visible = new List<string>();
        for (var page = 0; page < MaxPages; page++)
        {
            var (status, body) = await stored.GetAsync(url, cancellationToken);
            if (status != HttpStatusCode.OK)
            {
                return (int)status is >= 400 and < 500
                    ? (visible, Refusal.Problem(400, "invalid", $"The FHIR server refused to search by these criteria ({(int)status})."))
                    : throw new UpstreamException($"The FHIR server answered {(int)status} when Hearth searched by the criteria.");
            }

            var root = FhirJson.TryParse(body) as JsonObject;
            var parsed = root is not null && FhirElements.TryGetString(root, "resourceType", out var type) && type == "Bundle" ? filter.Read(root, judgeEntries: true) : null;
            if (parsed?.Entries is not { } entries)
            {
                throw new UpstreamException("The FHIR server's answer to a search by the criteria is not a FHIR JSON Bundle.");
            }

            var resolved = await resolver.ResolveAsync(parsed.Judged, cancellationToken);
            foreach (var item in entries)
            {
                if (item is { Match: true, Facts: { } facts, Entry: JsonObject entry } && facts.ResourceType == criteria.ResourceType
                    && entry["resource"] is JsonObject resource && FhirElements.TryGetString(resource, "id", out var id) && id.Length > 0
                    && adjudicator.Judge(facts, resolved, permissions, FhirAction.Search).IsPermitted && !visible.Contains(id))
                {
                    visible.Add(id);
                    if (visible.Count >= enough)
                    {
                        return (visible, null);
                    }
                }
            }

            if (Next(root!) is not { } next)
            {
                return (visible, null);
            }

            url = next.StartsWith(fhirBase + "/", StringComparison.Ordinal) || next.StartsWith(fhirBase + "?", StringComparison.Ordinal)
                ? next
                : throw new UpstreamException("The FHIR server's next page of a search by the criteria is not on the FHIR server.");
        }

        return (visible, Refusal.Problem(412, "too-costly",
            $"The criteria match more than {PageSize * MaxPages} resources; Hearth judges at most that many for a conditional interaction. Make them more selective."));
    }

    private static string? Next(JsonObject bundle)
        => (bundle["link"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(l => FhirElements.TryGetString(l, "relation", out var relation) && relation == "next") is { } link
           && FhirElements.TryGetString(link, "url", out var url) && url.Length > 0
            ? url
            : null;
}
