using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// The permissions Hearth registers at a Pauldron permission endpoint (UMA mode), in the shape
/// Pauldron Hearth sends: <c>{"resource_set_id": {"patientId": {"system", "value"},
/// "resourceType", "securityLabel": [{"system", "code"}]}, "scopes": ["read"]}</c>, without
/// duplicates. A dimension Hearth cannot know is <c>"*"</c> (anything).
/// </summary>
public static class PermissionRegistration
{
    /// <param name="patient">Null: any patient (<c>"*"</c>).</param>
    /// <param name="resourceType">Null: any type (<c>"*"</c>).</param>
    /// <param name="labels">Null: any labels (<c>"*"</c>).</param>
    public static JsonObject Permission(PatientIdentifier? patient, string? resourceType, string action, IReadOnlyList<SecurityLabel>? labels)
    {
        JsonNode patientId = patient is null ? "*" : Identifier(patient);
        JsonNode securityLabel = labels is null
            ? "*"
            : new JsonArray(labels.Select(l => (JsonNode)Label(l)).ToArray());
        return new JsonObject
        {
            ["resource_set_id"] = new JsonObject
            {
                ["patientId"] = patientId,
                ["resourceType"] = resourceType ?? "*",
                ["securityLabel"] = securityLabel,
            },
            ["scopes"] = new JsonArray(action),
        };
    }

    /// <summary>Whether a Pauldron permission can name what was needed: every patient of it has an identifier.</summary>
    public static bool CanName(RequiredPermission required) => required.Patients is null || required.Patients.All(p => p.Designated is not null);

    /// <summary>One permission per patient of what a resource needed (outside the Patient compartment: patient "*").</summary>
    public static IEnumerable<JsonObject> From(RequiredPermission required)
    {
        if (required.Patients is null || required.Patients.Count == 0)
        {
            return [Permission(null, required.ResourceType, required.Action.Name(), required.Labels)];
        }

        return required.Patients.Select(p => Permission(p.Designated, required.ResourceType, required.Action.Name(), required.Labels));
    }

    /// <summary>The registration body: a JSON array, duplicates removed, first occurrence kept.</summary>
    public static string Serialize(IEnumerable<JsonObject> permissions)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var array = new JsonArray();
        foreach (var permission in permissions)
        {
            if (seen.Add(permission.ToJsonString(FhirJson.Output)))
            {
                array.Add(permission.DeepClone());
            }
        }

        return array.ToJsonString(FhirJson.Output);
    }

    private static JsonObject Identifier(PatientIdentifier patient)
    {
        var identifier = new JsonObject();
        if (patient.System is not null)
        {
            identifier["system"] = patient.System;
        }

        identifier["value"] = patient.Value;
        return identifier;
    }

    private static JsonObject Label(SecurityLabel label)
    {
        var json = new JsonObject();
        if (label.System is not null)
        {
            json["system"] = label.System;
        }

        if (label.Code is not null)
        {
            json["code"] = label.Code;
        }

        return json;
    }
}
