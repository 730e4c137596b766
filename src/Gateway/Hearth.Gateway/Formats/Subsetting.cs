using System.Text.Json.Nodes;
using Hl7.Fhir.Rest;
using Hearth.Authorization.Fhir;

namespace Hearth.Gateway.Formats;

/// <summary>
/// _summary / _elements, applied by Hearth *after* judging: the FHIR server is asked for whole
/// resources (a subsetted resource could lack the labels or patient reference it is judged on),
/// and only what the token may see is then subsetted, with the SUBSETTED tag, on the JSON tree
/// (<see cref="JsonSubsetter"/>).
/// </summary>
internal sealed record Subsetting(SummaryType Summary, string[]? Elements)
{
    /// <summary>Reads _summary (true|text|data|false) and _elements; null with a reason when they cannot be honoured.</summary>
    public static Subsetting? Parse(IReadOnlyList<string> summary, IReadOnlyList<string> elements, out string? error)
    {
        error = null;
        if (summary.Count > 1 || elements.Count > 1)
        {
            error = "Give _summary and _elements once each.";
            return null;
        }

        var summaryType = SummaryType.False;
        if (summary.Count == 1)
        {
            summaryType = summary[0] switch
            {
                "true" => SummaryType.True,
                "text" => SummaryType.Text,
                "data" => SummaryType.Data,
                "false" => SummaryType.False,
                _ => (SummaryType)(-1),
            };
            if ((int)summaryType == -1)
            {
                error = summary[0] == "count"
                    ? "_summary=count is not supported: the count could reveal resources the token may not see."
                    : "_summary must be true, text, data or false.";
                return null;
            }
        }

        string[]? names = null;
        if (elements.Count == 1)
        {
            names = elements[0].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0 || names.Any(n => !n.All(char.IsAsciiLetter)))
            {
                error = "_elements is a comma-separated list of element names.";
                return null;
            }

            if (summaryType != SummaryType.False)
            {
                error = "Use either _summary or _elements, not both.";
                return null;
            }
        }

        return summaryType == SummaryType.False && names is null ? null : new Subsetting(summaryType, names);
    }

    /// <summary>Subsets a resource, or each entry's resource of a Bundle that was judged entry by entry.</summary>
    public string Apply(string json, bool entries)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        if (!entries)
        {
            return Resource(root).ToJsonString(FhirJson.Output);
        }

        if (root["entry"] is JsonArray list)
        {
            foreach (var entry in list.OfType<JsonObject>())
            {
                if (entry["resource"] is JsonObject resource)
                {
                    entry["resource"] = Resource(resource);
                }
            }
        }

        return root.ToJsonString(FhirJson.Output);
    }

    private JsonObject Resource(JsonObject resource)
    {
        var subset = new JsonSubsetter(Summary, Elements).Resource(resource);

        // Subsetted results carry the SUBSETTED tag (_summary, as Firely's serializer tags them; _elements likewise).
        var meta = subset["meta"] as JsonObject ?? new JsonObject();
        var tags = meta["tag"] as JsonArray ?? new JsonArray();
        tags.Add(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", ["code"] = "SUBSETTED" });
        meta["tag"] = tags;
        subset["meta"] = meta;
        return subset;
    }
}
