using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;

namespace Hearth.Benchmarks;

/// <summary>What every benchmark judges with: the rules of an embedded gateway in front of <see cref="Base"/>, and patients as the gateway resolves them.</summary>
internal static class BenchFixtures
{
    public const string Base = "http://fhir.example/r4";

    /// <summary>The rules of a gateway with <c>HEARTH_POLICIES=<paramref name="policies"/></c>, patients designated by <c>urn:official:id</c>.</summary>
    public static RuleSettings Rules(string policies = "token")
    {
        var values = new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = Base, ["UMA_MODE"] = "false", ["UMA_SERVER_BASE"] = "http://auth.example",
            ["UMA_SERVER_PROTECTION_API_KEY"] = "k", ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id", ["HEARTH_POLICIES"] = policies,
        };
        return HearthSettings.Load(k => values.GetValueOrDefault(k)).Rules;
    }

    /// <summary>Patient/p01 … Patient/p{count}, each with its designated identifier and its reference already set (then no copy is made per judgement).</summary>
    public static Dictionary<string, ResolvedPatient?> Patients(int count)
        => Enumerable.Range(1, count).ToDictionary(i => $"Patient/p{i:00}",
            i => (ResolvedPatient?)(ResolvedPatient.From([new PatientIdentifier("urn:official:id", $"1{i:0000}")], ["urn:official:id"])! with { Reference = $"Patient/p{i:00}" }));
}
