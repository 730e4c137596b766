using Hearth.Authorization.Fhir;
using Hearth.Authorization.Configuration;

namespace Hearth.Authorization.Tests;

internal static class TestSettings
{
    public const string Conf = HearthSettings.ConfidentialitySystem;
    public const string FhirBase = "http://fhir.internal:8080/fhir/R4";

    public static HearthSettings Create(params (string Key, string Value)[] extra)
    {
        var values = new Dictionary<string, string>
        {
            ["FHIR_SERVER_BASE"] = FhirBase,
            ["UMA_SERVER_BASE"] = "http://auth.internal:8090",
            ["UMA_SERVER_PROTECTION_API_KEY"] = "key",
            ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
        };
        foreach (var (key, value) in extra)
        {
            values[key] = value;
        }

        return HearthSettings.Load(k => values.GetValueOrDefault(k));
    }

    /// <summary>The rules' settings (what the pure core takes).</summary>
    public static RuleSettings Rules(params (string Key, string Value)[] extra) => Create(extra).Rules;
}

/// <summary>Resolutions for table tests: a patient known by one identifier.</summary>
internal static class TestResolution
{
    public static ResolvedPatient Patient(PatientIdentifier identifier) => new(identifier, [identifier]);

    public static ResolvedReferences Of(Func<string, PatientIdentifier?> patients)
        => new(reference => patients(reference) is { } identifier ? Patient(identifier) : null);
}
