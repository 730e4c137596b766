using System.Text;
using System.Text.Json;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Tokens;

namespace Hearth.Authorization.Tests.Permissions;

/// <summary>SMART on FHIR scopes: the grammar, the mapping onto Hearth's permissions, granular conditions, and the claims they come in.</summary>
public class SmartScopeTests
{
    private const string Cat = "http://terminology.hl7.org/CodeSystem/observation-category";

    // ---- grammar ----

    public static TheoryData<string, SmartContext, string?, SmartPermissions> Valid => new()
    {
        { "patient/Observation.rs", SmartContext.Patient, "Observation", SmartPermissions.Read | SmartPermissions.Search },
        { "user/*.cruds", SmartContext.User, null, SmartPermissions.All },
        { "system/Patient.r", SmartContext.System, "Patient", SmartPermissions.Read },
        { "patient/Condition.s", SmartContext.Patient, "Condition", SmartPermissions.Search },
        { "user/Observation.cud", SmartContext.User, "Observation", SmartPermissions.Create | SmartPermissions.Update | SmartPermissions.Delete },
        { "user/Observation.c", SmartContext.User, "Observation", SmartPermissions.Create },
        { "user/Observation.ud", SmartContext.User, "Observation", SmartPermissions.Update | SmartPermissions.Delete },
        { "patient/*.read", SmartContext.Patient, null, SmartPermissions.Read | SmartPermissions.Search }, // v1
        { "user/Observation.write", SmartContext.User, "Observation", SmartPermissions.Create | SmartPermissions.Update | SmartPermissions.Delete },
        { "system/*.*", SmartContext.System, null, SmartPermissions.All },
        { "patient/Observation.rs?category=laboratory", SmartContext.Patient, "Observation", SmartPermissions.Read | SmartPermissions.Search },
        { "patient/Observation.rs?category=" + Cat + "|laboratory&code=8867-4", SmartContext.Patient, "Observation", SmartPermissions.Read | SmartPermissions.Search },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Grammar_Valid(string text, SmartContext context, string? type, SmartPermissions permissions)
    {
        var scope = SmartScope.Parse(text, out var problem);
        Assert.Null(problem);
        Assert.NotNull(scope);
        Assert.Equal((context, type, permissions), (scope.Context, scope.ResourceType, scope.Permissions));
    }

    [Theory]
    [InlineData("openid")]
    [InlineData("fhirUser")]
    [InlineData("launch/patient")]
    [InlineData("launch")]
    [InlineData("offline_access")]
    [InlineData("profile")]
    [InlineData("")]
    [InlineData("Patient/Observation.rs")] // scope names are case-sensitive
    public void Grammar_NotAClinicalScope_Ignored(string text)
    {
        Assert.Null(SmartScope.Parse(text, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("patient/Observation.sr")] // out of order
    [InlineData("patient/Observation.rr")]
    [InlineData("patient/Observation.x")]
    [InlineData("patient/Observation.")]
    [InlineData("patient/Observation")]
    [InlineData("patient/NotAType.rs")]
    [InlineData("patient/observation.rs")]
    [InlineData("patient/Observation.readwrite")]
    [InlineData("patient/Observation.rs?")]
    [InlineData("patient/Observation.rs?category")] // no value
    [InlineData("patient/Observation.rs?code:text=x")] // a modifier
    [InlineData("patient/Observation.rs?subject=Patient/1")] // a reference parameter, not a token
    [InlineData("patient/Observation.rs?nonsense=1")]
    [InlineData("patient/Observation.rs?category=|")]
    [InlineData("patient/*.rs?nonsense=1")]
    [InlineData("patient//Observation.rs")]
    public void Grammar_Malformed_GrantsNothing_WithAProblem(string text)
    {
        Assert.Null(SmartScope.Parse(text, out var problem));
        Assert.NotNull(problem);
    }

    // ---- mapping ----

    private static readonly Hearth.Authorization.Configuration.RuleSettings Rules = TestSettings.Rules();

    private static readonly Dictionary<string, ResolvedPatient?> Patients = new()
    {
        ["Patient/p1"] = TestResolution.Patient(new("urn:official:id", "10001")),
        ["Patient/p2"] = TestResolution.Patient(new("urn:official:id", "10002")),
        ["Patient/p20"] = null, // no identifiers: known by reference only
    };

    private static string Obs(string subject, string? category = "laboratory", string label = "N")
        => "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"security\":[{\"system\":\"" + TestSettings.Conf + "\",\"code\":\"" + label + "\"}]},"
           + (category is null ? "" : "\"category\":[{\"coding\":[{\"system\":\"" + Cat + "\",\"code\":\"" + category + "\"}]}],")
           + "\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"" + subject + "\"}}";

    private const string Patient1 = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}";
    private const string Medication = "{\"resourceType\":\"Medication\",\"id\":\"m1\"}";
    private const string TwoPatients = "{\"resourceType\":\"Observation\",\"id\":\"o2\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p1\"},\"performer\":[{\"reference\":\"Patient/p2\"}]}";

    private static string Deny(string patient, string type = "*", string labels = "\"*\"") => Hearth.Testing.Permissions.For(patient, type, "read", labels, deny: true);

    public static TheoryData<string, string, string?, string, FhirAction, Decision> Mapping => new()
    {
        // name, scopes, patient claim, resource, action, decision
        { "patient/ scope, the patient in context", "patient/Observation.rs", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "... another patient", "patient/Observation.rs", "p1", Obs("Patient/p2"), FhirAction.Read, Decision.NotGranted },
        { "... absolute reference under the FHIR server's base", "patient/Observation.rs", "p1", Obs(TestSettings.FhirBase + "/Patient/p1"), FhirAction.Read, Decision.Permit },
        { "... a versioned reference", "patient/Observation.rs", "p1", Obs("Patient/p1/_history/3"), FhirAction.Read, Decision.Permit },
        { "... an id that only starts like it", "patient/Observation.rs", "p1", Obs("Patient/p10"), FhirAction.Read, Decision.NotGranted },
        { "... without a patient claim", "patient/Observation.rs", null, Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "... the Patient itself", "patient/Patient.r", "p1", Patient1, FhirAction.Read, Decision.Permit },
        { "... the Patient itself, another id", "patient/Patient.r", "p2", Patient1, FhirAction.Read, Decision.NotGranted },
        { "... a patient without identifiers, by reference", "patient/Observation.r", "p20", Obs("Patient/p20"), FhirAction.Read, Decision.Permit },
        { "... a resource of two patients", "patient/Observation.rs", "p1", TwoPatients, FhirAction.Read, Decision.NotGranted },
        { "... outside the compartment", "patient/Medication.rs", "p1", Medication, FhirAction.Read, Decision.NotGranted },
        { "... another type", "patient/Condition.rs", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "... every label (R)", "patient/Observation.rs", "p1", Obs("Patient/p1", label: "R"), FhirAction.Read, Decision.Permit },
        { "r reads by id, not searches", "patient/Observation.r", "p1", Obs("Patient/p1"), FhirAction.Search, Decision.NotGranted },
        { "s searches, not reads by id", "patient/Observation.s", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "s searches", "patient/Observation.s", "p1", Obs("Patient/p1"), FhirAction.Search, Decision.Permit },
        { "v1 read: both", "patient/Observation.read", "p1", Obs("Patient/p1"), FhirAction.Search, Decision.Permit },
        { "c creates", "patient/Observation.c", "p1", Obs("Patient/p1"), FhirAction.Create, Decision.Permit },
        { "c does not update", "patient/Observation.c", "p1", Obs("Patient/p1"), FhirAction.Update, Decision.NotGranted },
        { "u updates", "user/Observation.u", null, Obs("Patient/p2"), FhirAction.Update, Decision.Permit },
        { "d deletes", "user/Observation.d", null, Obs("Patient/p2"), FhirAction.Delete, Decision.Permit },
        { "v1 write: create, update, delete", "user/Observation.write", null, Obs("Patient/p2"), FhirAction.Delete, Decision.Permit },
        { "v1 write does not read", "user/Observation.write", null, Obs("Patient/p2"), FhirAction.Read, Decision.NotGranted },
        { "user/ scope: every patient", "user/Observation.rs", null, Obs("Patient/p2"), FhirAction.Read, Decision.Permit },
        { "user/ scope: outside the compartment", "user/Medication.rs", null, Medication, FhirAction.Read, Decision.Permit },
        { "user/ scope: a patient without identifiers", "user/Observation.rs", null, Obs("Patient/p20"), FhirAction.Read, Decision.Permit },
        { "user/*: every type", "user/*.rs", null, Medication, FhirAction.Search, Decision.Permit },
        { "bulk export: system/ reading and searching", "system/Observation.rs", null, Obs("Patient/p2"), FhirAction.BulkExport, Decision.Permit },
        { "bulk export: not user/", "user/Observation.rs", null, Obs("Patient/p2"), FhirAction.BulkExport, Decision.NotGranted },
        { "bulk export: not r alone", "system/Observation.r", null, Obs("Patient/p2"), FhirAction.BulkExport, Decision.NotGranted },
        { "granular: matching category", "patient/Observation.rs?category=laboratory", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "granular: another category", "patient/Observation.rs?category=laboratory", "p1", Obs("Patient/p1", "vital-signs"), FhirAction.Read, Decision.NotGranted },
        { "granular: no category", "patient/Observation.rs?category=laboratory", "p1", Obs("Patient/p1", null), FhirAction.Read, Decision.NotGranted },
        { "granular: system|code", "patient/Observation.rs?category=" + Cat + "|laboratory", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "granular: another system", "patient/Observation.rs?category=http://other|laboratory", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "granular: |code needs no system", "patient/Observation.rs?category=|laboratory", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "granular: system| any code of it", "patient/Observation.rs?category=" + Cat + "|", "p1", Obs("Patient/p1", "vital-signs"), FhirAction.Read, Decision.Permit },
        { "granular: several values, any", "patient/Observation.rs?category=vital-signs,laboratory", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "granular: percent-encoded bar", "patient/Observation.rs?category=" + Uri.EscapeDataString(Cat + "|laboratory"), "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "granular: every condition", "patient/Observation.rs?category=laboratory&code=http://loinc.org|8867-4", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.Permit },
        { "granular: one condition fails", "patient/Observation.rs?category=laboratory&code=1234-5", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
        { "granular: status (a code)", "user/Observation.rs?status=final", null, Obs("Patient/p2"), FhirAction.Read, Decision.Permit },
        { "granular on *: the type's own parameter", "user/*.rs?category=laboratory", null, Obs("Patient/p2"), FhirAction.Read, Decision.Permit },
        { "granular on *: a type without it", "user/*.rs?category=laboratory", null, Medication, FhirAction.Read, Decision.NotGranted },
        { "granular: an unknown parameter grants nothing", "user/Observation.rs?nonsense=1", null, Obs("Patient/p2"), FhirAction.Read, Decision.NotGranted },
        { "scopes add up", "patient/Condition.rs user/Observation.r", "p1", Obs("Patient/p2"), FhirAction.Read, Decision.Permit },
        { "openid and friends grant nothing", "openid fhirUser launch/patient offline_access", "p1", Obs("Patient/p1"), FhirAction.Read, Decision.NotGranted },
    };

    [Theory]
    [MemberData(nameof(Mapping))]
    public void Mapping_OntoPermissions(string name, string scopes, string? patient, string resource, FhirAction action, Decision expected)
    {
        var set = PermissionSet.From(null, scopes.Split(' '), patient);
        Assert.True(expected == Judge(set, resource, action), $"{name}: expected {expected}");
    }

    public static TheoryData<string, string, string, string, Decision> Mixed => new()
    {
        // name, SMART scopes, Pauldron permissions, resource, decision
        { "a Pauldron deny of the patient wins over a SMART grant", "user/Observation.rs", Deny("10001"), Obs("Patient/p1"), Decision.ExplicitlyDenied },
        { "a Pauldron deny of a label wins", "user/Observation.rs", Deny("*", labels: Hearth.Testing.Permissions.Labels("R")), Obs("Patient/p2", label: "R"), Decision.ExplicitlyDenied },
        { "... another label passes", "user/Observation.rs", Deny("*", labels: Hearth.Testing.Permissions.Labels("R")), Obs("Patient/p2", label: "N"), Decision.Permit },
        { "a deny of a named patient cannot rule out one without identifiers", "user/Observation.rs", Deny("10001"), Obs("Patient/p20"), Decision.ExplicitlyDenied },
        { "grants add up: Pauldron grants one patient, SMART another type", "user/Condition.rs", Hearth.Testing.Permissions.For("10001", "Observation"), Obs("Patient/p1"), Decision.Permit },
        { "a Pauldron patient \"*\" does not cover a patient without identifiers", "", Hearth.Testing.Permissions.For("*"), Obs("Patient/p20"), Decision.NotGranted },
    };

    [Theory]
    [MemberData(nameof(Mixed))]
    public void Mixed_SmartAndPauldron(string name, string scopes, string pauldron, string resource, Decision expected)
    {
        var set = PermissionSet.From("[" + pauldron + "]", scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), "p1");
        Assert.True(expected == Judge(set, resource, FhirAction.Read), $"{name}: expected {expected}");
    }

    [Theory]
    [InlineData("https://hearth.example/fhir/Patient/p1", Decision.Permit)] // the gateway's URL of the same Patient
    [InlineData("https://hearth.example/fhir/Patient/p2", Decision.NotGranted)]
    [InlineData("https://elsewhere.example/fhir/Patient/p1", Decision.NotGranted)] // another server: never by substring
    [InlineData("https://hearth.example/fhir-other/Patient/p1", Decision.NotGranted)]
    public void PatientContext_AbsoluteReferenceUnderTheGatewaysBase(string subject, Decision expected)
    {
        var rules = TestSettings.Rules(("HEARTH_PUBLIC_BASE", "https://hearth.example/fhir"));
        var parsed = new ResponseFilter(rules).Parse(Encoding.UTF8.GetBytes(Obs(subject)), judgeEntries: false)!;
        var set = PermissionSet.From(null, ["patient/Observation.rs"], "p1");
        Assert.Equal(expected, new Adjudicator(rules).Judge(parsed.RootFacts, ResolvedReferences.From(Patients), set, FhirAction.Read).Decision);
    }

    [Fact]
    public void Problems_NamedOncePerScope_WithoutAPatientClaim()
    {
        var set = PermissionSet.From(null, ["patient/Observation.rs", "user/Observation.rs?code:text=x", "openid"], null);
        Assert.Equal(2, set.Problems.Count);
        Assert.Contains(set.Problems, p => p.StartsWith("user/Observation.rs?code:text=x", StringComparison.Ordinal));
        Assert.Contains(set.Problems, p => p.Contains("patient claim", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("user/Observation.rs", "Observation", true)]
    [InlineData("system/*.s", null, true)]
    [InlineData("user/*.rs", "Condition", true)]
    [InlineData("user/Observation.r", "Observation", false)] // searching is what a chain does
    [InlineData("patient/Observation.rs", "Observation", false)] // one patient only
    [InlineData("user/Observation.rs?category=laboratory", "Observation", false)]
    [InlineData("user/Observation.rs", null, false)]
    public void ReadsEverything_ForSearchCriteria(string scope, string? type, bool expected)
        => Assert.Equal(expected, PermissionSet.From(null, [scope], "p1").ReadsEverything(type));

    [Theory]
    [InlineData("system/Observation.rs", "Observation", true)]
    [InlineData("system/*.read", "Condition", true)]
    [InlineData("user/Observation.rs", "Observation", false)]
    [InlineData("system/Observation.rs", "Condition", false)]
    public void PlanExport_SystemScopes(string scope, string type, bool planned)
        => Assert.Equal(planned, PermissionSet.From(null, [scope], null).PlanExport([type], []).Permitted);

    /// <summary>
    /// The issue's token: 255 granular scopes of 76 conditions each (a FHIR token search parameter
    /// of Observation each), none of which matches, and one that does last. Each distinct search
    /// parameter is evaluated once for all 19,380 conditions, from the JSON (every one of these
    /// parameters is only paths): no Firely typed element is built.
    /// </summary>
    [Fact]
    public void ManyGranularScopes_EachParameterEvaluatedOnce()
    {
        string[] parameters = ["category", "code", "status", "identifier", "combo-code", "component-code", "method", "data-absent-reason"];
        var conditions = string.Join('&', Enumerable.Range(0, 76).Select(i => $"{parameters[i % parameters.Length]}=nomatch-{i}"));
        var scopes = Enumerable.Range(0, 255).Select(i => $"user/Observation.rs?{conditions}&code=c{i}").Append("user/Observation.rs?category=laboratory&code=8867-4").ToArray();
        var set = PermissionSet.From(null, scopes, null);
        Assert.Null(set.Malformed);
        Assert.Empty(set.Problems);
        (ScopeCondition.TypedElementsBuilt, ScopeCondition.ExpressionsEvaluated) = (0, 0);
        Assert.Equal(Decision.Permit, Judge(set, Obs("Patient/p2"), FhirAction.Read));
        Assert.Equal(0, ScopeCondition.TypedElementsBuilt);
        Assert.InRange(ScopeCondition.ExpressionsEvaluated, 1, parameters.Length);

        // Judged again (a new inspection of the same answer): evaluated anew, never from another judgement's tokens.
        var before = ScopeCondition.ExpressionsEvaluated;
        Assert.Equal(Decision.NotGranted, Judge(set, Obs("Patient/p2", category: "vital-signs"), FhirAction.Read));
        Assert.True(ScopeCondition.ExpressionsEvaluated > before);
    }

    /// <summary>A parameter that is not only paths (<c>value-concept</c>: <c>as CodeableConcept</c>) is evaluated by Firely, its typed element built once for every scope that asks.</summary>
    [Fact]
    public void ConditionsFirelyEvaluates_TypedElementBuiltOncePerJudgement()
    {
        var scopes = Enumerable.Range(0, 50).Select(i => $"user/Observation.rs?value-concept=nomatch-{i}&code=c{i}").Append("user/Observation.rs?value-concept=http://snomed.info/sct|260385009").ToArray();
        var set = PermissionSet.From(null, scopes, null);
        var observation = Obs("Patient/p2").Replace("\"status\"", "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"260385009\"}]},\"status\"", StringComparison.Ordinal);
        (ScopeCondition.TypedElementsBuilt, ScopeCondition.ExpressionsEvaluated) = (0, 0);
        Assert.Equal(Decision.Permit, Judge(set, observation, FhirAction.Read));
        Assert.Equal(1, ScopeCondition.TypedElementsBuilt);
        Assert.Equal(Decision.NotGranted, Judge(set, Obs("Patient/p2"), FhirAction.Read));
        Assert.Equal(2, ScopeCondition.TypedElementsBuilt);
    }

    [Fact]
    public void UnconditionedScopes_DecideFirst_NothingEvaluated()
    {
        var set = PermissionSet.From(null, ["user/Observation.rs?category=laboratory", "user/Observation.rs"], null);
        (ScopeCondition.TypedElementsBuilt, ScopeCondition.ExpressionsEvaluated) = (0, 0);
        Assert.Equal(Decision.Permit, Judge(set, Obs("Patient/p2", category: "vital-signs"), FhirAction.Read));
        Assert.Equal(0, ScopeCondition.TypedElementsBuilt);
    }

    [Fact]
    public void TooManyConditions_TheTokenIsMalformed_GrantsNothing()
    {
        var conditions = string.Join('&', Enumerable.Range(0, 100).Select(i => $"code=c{i}"));
        var scopes = Enumerable.Range(0, (PermissionSet.MaxConditions / 100) + 1).Select(i => $"user/Observation.rs?{conditions}&status=s{i}");
        var set = PermissionSet.From(null, scopes, null);
        Assert.NotNull(set.Malformed);
        Assert.Contains("conditions", set.Malformed, StringComparison.Ordinal);
        Assert.Equal(Decision.NotGranted, Judge(set, Obs("Patient/p2"), FhirAction.Read));
        Assert.Null(PermissionSet.From(null, scopes.Take(PermissionSet.MaxConditions / 101), null).Malformed); // within the cap: a token like any other
    }

    private static Decision Judge(PermissionSet set, string resource, FhirAction action)
    {
        var parsed = new ResponseFilter(Rules).Parse(Encoding.UTF8.GetBytes(resource), judgeEntries: false)!;
        return new Adjudicator(Rules).Judge(parsed.RootFacts, ResolvedReferences.From(Patients), set, action).Decision;
    }

    // ---- claims ----

    public static TheoryData<string, string[], string?, int> Claims => new()
    {
        // claims JSON, SMART scopes read, patient, Pauldron permissions read
        { "{\"scope\":\"openid patient/Observation.rs launch/patient\",\"patient\":\"p1\"}", ["openid", "patient/Observation.rs", "launch/patient"], "p1", 0 },
        { "{\"scp\":\"user/Observation.rs user/Condition.r\"}", ["user/Observation.rs", "user/Condition.r"], null, 0 },
        { "{\"scp\":[\"system/*.rs\",3,\"openid\"]}", ["system/*.rs", "openid"], null, 0 },
        { "{\"scope\":\"[" + "{\\\"resource_set_id\\\":{\\\"patientId\\\":\\\"*\\\",\\\"resourceType\\\":\\\"*\\\"},\\\"scopes\\\":[\\\"read\\\"]}]\"}", [], null, 1 },
        { "{\"scope\":\"patient/Observation.rs\",\"patient\":\"../Patient/1\"}", ["patient/Observation.rs"], null, 0 }, // not a logical id
        { "{\"scope\":\"patient/Observation.rs\",\"patient\":42}", ["patient/Observation.rs"], null, 0 },
        { "{\"scope\":\"[not json\"}", [], null, 0 },
        { "{\"permissions\":[{\"resource_set_id\":{\"patientId\":\"*\",\"resourceType\":\"*\"},\"scopes\":[\"read\"]}],\"scope\":\"user/*.rs\"}", ["user/*.rs"], null, 1 },
    };

    [Theory]
    [MemberData(nameof(Claims))]
    public void TokenClaims_Read(string json, string[] scopes, string? patient, int pauldron)
    {
        using var doc = JsonDocument.Parse(json);
        var claims = TokenClaims.Read(doc.RootElement);
        Assert.Equal(scopes, claims.Scopes);
        Assert.Equal(patient, claims.Patient);
        Assert.Equal(pauldron, PermissionSet.Parse(claims.PermissionsJson).Count);
    }

    [Fact]
    public void TokenClaims_SubjectAndClient()
    {
        using var doc = JsonDocument.Parse("{\"sub\":\"u-1\",\"azp\":\"app-1\"}");
        var claims = TokenClaims.Read(doc.RootElement);
        Assert.Equal(("u-1", "app-1"), (claims.Subject, claims.ClientId));
    }
}
