namespace Hearth.Testing;

/// <summary>Builds Pauldron permissions (the scopes-of-objects shape) for tests.</summary>
public static class Permissions
{
    public const string Confidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

    /// <summary>One permission for a patient of <paramref name="system"/> (or "*"), a type (or "*", or a JSON array), an action and labels.</summary>
    public static string For(string patient, string resourceType = "*", string action = "read", string labels = "\"*\"", bool deny = false, string system = "urn:official:id")
    {
        var patientJson = patient == "*" ? "\"*\"" : "{\"system\":\"" + system + "\",\"value\":\"" + patient + "\"}";
        var typeJson = resourceType.StartsWith('[') ? resourceType : "\"" + resourceType + "\"";
        return "{" + (deny ? "\"deny\":true," : "") + "\"resource_set_id\":{\"patientId\":" + patientJson + ",\"resourceType\":" + typeJson
               + "},\"scopes\":[{\"action\":\"" + action + "\",\"securityLabels\":" + labels + "}]}";
    }

    /// <summary>A JSON array of v3-Confidentiality labels.</summary>
    public static string Labels(params string[] codes)
        => "[" + string.Join(',', codes.Select(c => "{\"system\":\"" + Confidentiality + "\",\"code\":\"" + c + "\"}")) + "]";
}
