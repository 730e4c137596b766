using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Responses;

/// <summary>
/// Pauldron Hearth's labeling service (ENABLE_LABELING_SERVICE), applied to what the client gets,
/// after redaction:
/// <list type="bullet">
/// <item>ADD_DEFAULT_CONFIDENTIALITY_LABEL: a resource that has security labels but none of the
/// v3-Confidentiality system gets DEFAULT_CONFIDENTIALITY_CODE (resources of
/// NO_LABEL_RESOURCE_TYPES are left alone);</item>
/// <item>ADD_HIGHT_WATER_MARK: a Bundle's own <c>meta.security</c> carries the highest
/// confidentiality (U &lt; L &lt; M &lt; N &lt; R &lt; V) of the entries it still holds.</item>
/// </list>
/// </summary>
public sealed class Labeler(RuleSettings settings)
{
    private static readonly string[] Order = ["U", "L", "M", "N", "R", "V"];

    public bool Enabled => settings.EnableLabelingService && (settings.AddDefaultConfidentialityLabel || settings.AddHighWaterMark);

    /// <summary>Labels <paramref name="root"/> in place; true when something changed.</summary>
    public bool Apply(JsonObject root)
    {
        if (!Enabled)
        {
            return false;
        }

        var changed = false;
        var isBundle = FhirElements.TryGetString(root, "resourceType", out var type) && type == "Bundle";
        var resources = isBundle && root["entry"] is JsonArray entries
            ? entries.OfType<JsonObject>().Select(e => e["resource"]).OfType<JsonObject>().ToList()
            : isBundle ? [] : [root];
        if (settings.AddDefaultConfidentialityLabel)
        {
            foreach (var resource in resources)
            {
                changed |= AddDefault(resource);
            }
        }

        if (isBundle && settings.AddHighWaterMark)
        {
            var highest = resources.SelectMany(Confidentiality).Select(c => Array.IndexOf(Order, c)).DefaultIfEmpty(-1).Max();
            if (highest >= 0)
            {
                var meta = root["meta"] as JsonObject ?? new JsonObject();
                root["meta"] = meta;
                var security = meta["security"] as JsonArray ?? new JsonArray();
                meta["security"] = security;
                foreach (var old in security.OfType<JsonObject>().Where(IsConfidentiality).ToList())
                {
                    security.Remove(old);
                }

                security.Add(new JsonObject { ["system"] = RuleSettings.ConfidentialitySystem, ["code"] = Order[highest] });
                changed = true;
            }
        }

        return changed;
    }

    private bool AddDefault(JsonObject resource)
    {
        if (!FhirElements.TryGetString(resource, "resourceType", out var type) || settings.NoLabelResourceTypes.Contains(type)
            || resource["meta"] is not JsonObject meta || meta["security"] is not JsonArray security || security.OfType<JsonObject>().Any(IsConfidentiality))
        {
            return false;
        }

        security.Add(new JsonObject { ["system"] = RuleSettings.ConfidentialitySystem, ["code"] = settings.DefaultConfidentialityCode });
        return true;
    }

    private static IEnumerable<string> Confidentiality(JsonObject resource)
        => resource["meta"] is JsonObject { } meta && meta["security"] is JsonArray security
            ? security.OfType<JsonObject>().Where(IsConfidentiality).Select(l => FhirElements.TryGetString(l, "code", out var c) ? c : "").Where(c => c.Length > 0)
            : [];

    private static bool IsConfidentiality(JsonObject label)
        => FhirElements.TryGetString(label, "system", out var system) && system == RuleSettings.ConfidentialitySystem;
}
