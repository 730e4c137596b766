using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Policies;

namespace Hearth.Authorization.Tests.Policies;

/// <summary>
/// A patient's privacy Consent as Hearth enforces it, as tables. The Consent of the issue: patient
/// p01 denies Observations labelled R, and Conditions, to the client clinic-app; a nested permit
/// lets that client through for purpose BTG.
/// </summary>
public class ConsentDirectiveTests
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static string Consent(string provisions, string status = "active", string scope = "patient-privacy", string rootType = "permit", string? period = null)
        => "{\"resourceType\":\"Consent\",\"id\":\"c1\",\"status\":\"" + status + "\",\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\""
           + scope + "\"}]},\"patient\":{\"reference\":\"Patient/p01\"},\"provision\":{\"type\":\"" + rootType + "\"" + (period is null ? "" : ",\"period\":" + period)
           + ",\"provision\":[" + provisions + "]}}";

    private const string BreakGlass = "{\"type\":\"permit\",\"purpose\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActReason\",\"code\":\"BTG\"}]}";

    private static string ClinicDeny(string conditions) =>
        "{\"type\":\"deny\",\"actor\":[{\"role\":{\"text\":\"recipient\"},\"reference\":{\"identifier\":{\"value\":\"clinic-app\"}}}]," + conditions + ",\"provision\":[" + BreakGlass + "]}";

    private static readonly string IssueConsent = Consent(
        ClinicDeny("\"class\":[{\"system\":\"http://hl7.org/fhir/resource-types\",\"code\":\"Observation\"}],\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"R\"}]")
        + "," + ClinicDeny("\"class\":[{\"system\":\"http://hl7.org/fhir/resource-types\",\"code\":\"Condition\"}]"));

    private static (ResourceFacts Facts, JsonObject Resource) Resource(string type, string label = "N", string extra = "")
    {
        var resource = JsonNode.Parse("{\"resourceType\":\"" + type + "\",\"id\":\"r1\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]},"
                                      + "\"subject\":{\"reference\":\"Patient/p01\"}" + extra + "}")!.AsObject();
        var facts = new ResourceFacts(type, [new SecurityLabel(Conf, label)], PatientLinkKind.Patients, ["Patient/p01"], []);
        return (facts, resource);
    }

    private static ConsentRequester Client(string client, string? purpose = null, bool mayBreakGlass = false, string? fhirUser = null)
        => new(client, fhirUser, purpose is null ? [] : [purpose], mayBreakGlass);

    private static string Decide(string consent, (ResourceFacts Facts, JsonObject Resource) resource, ConsentRequester requester, DateTimeOffset? now = null)
    {
        var directive = ConsentDirective.Read(JsonNode.Parse(consent)!.AsObject());
        if (directive is null)
        {
            return "none";
        }

        var decision = directive.Decide(resource.Facts, resource.Resource, requester, now ?? Now);
        return decision.Outcome + (decision.BrokeTheGlass ? " BTG" : "");
    }

    [Theory]
    [InlineData("clinic-app", "Observation", "R", null, false, "Deny")]
    [InlineData("clinic-app", "Observation", "N", null, false, "Permit")] // not labelled R
    [InlineData("clinic-app", "Condition", "N", null, false, "Deny")]
    [InlineData("clinic-app", "Specimen", "R", null, false, "Permit")] // neither class
    [InlineData("other-app", "Observation", "R", null, false, "Permit")] // another client
    [InlineData("other-app", "Condition", "N", null, false, "Permit")]
    [InlineData("clinic-app", "Observation", "R", "BTG", true, "Permit BTG")] // break the glass, allowed
    [InlineData("clinic-app", "Condition", "N", "BTG", true, "Permit BTG")]
    [InlineData("clinic-app", "Observation", "R", "BTG", false, "Deny")] // BTG from a client not allowed to break the glass
    [InlineData("clinic-app", "Observation", "R", "TREAT", true, "Deny")] // another purpose
    public void TheIssuesConsent(string client, string type, string label, string? purpose, bool mayBreakGlass, string expected)
        => Assert.Equal(expected, Decide(IssueConsent, Resource(type, label), Client(client, purpose, mayBreakGlass)));

    [Theory]
    [InlineData("inactive", "patient-privacy", "none")]
    [InlineData("draft", "patient-privacy", "none")]
    [InlineData("active", "research", "none")]
    [InlineData("active", "patient-privacy", "Deny")]
    public void OnlyActivePrivacyConsents_Count(string status, string scope, string expected)
        => Assert.Equal(expected, Decide(Consent(ClinicDeny("\"class\":[{\"code\":\"Condition\"}]"), status, scope), Resource("Condition"), Client("clinic-app")));

    [Theory]
    [InlineData("{\"start\":\"2020-01-01\",\"end\":\"2021-01-01\"}", "NotApplicable")] // expired: no effect
    [InlineData("{\"start\":\"2030-01-01\"}", "NotApplicable")] // not yet
    [InlineData("{\"start\":\"2026-01-01\"}", "Deny")]
    public void RootPeriod_BoundsTheConsent(string period, string expected)
        => Assert.Equal(expected, Decide(Consent(ClinicDeny("\"class\":[{\"code\":\"Condition\"}]"), period: period), Resource("Condition"), Client("clinic-app")));

    [Theory]
    [InlineData("\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr1\"}}]", "Practitioner/pr1", "Deny")]
    [InlineData("\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr1\"}}]", "http://ehr.example/fhir/Practitioner/pr1", "Deny")]
    [InlineData("\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr1\"}}]", "Practitioner/pr2", "Permit")]
    [InlineData("\"code\":[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]}]", null, "Deny")]
    [InlineData("\"code\":[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"1234-5\"}]}]", null, "Permit")]
    [InlineData("\"data\":[{\"meaning\":\"instance\",\"reference\":{\"reference\":\"Observation/r1\"}}]", null, "Deny")]
    [InlineData("\"data\":[{\"meaning\":\"instance\",\"reference\":{\"reference\":\"Observation/r2\"}}]", null, "Permit")]
    [InlineData("\"dataPeriod\":{\"start\":\"2019-01-01\",\"end\":\"2019-12-31\"}", null, "Deny")]
    [InlineData("\"dataPeriod\":{\"start\":\"2021-01-01\"}", null, "Permit")]
    [InlineData("\"period\":{\"end\":\"2025-01-01\"}", null, "Permit")] // the rule itself has expired
    [InlineData("\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]", null, "Deny")]
    public void Conditions(string condition, string? fhirUser, string expected)
    {
        var observation = Resource("Observation", extra: ",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"effectiveDateTime\":\"2019-06-01T10:00:00Z\"");
        Assert.Equal(expected, Decide(Consent("{\"type\":\"deny\"," + condition + "}"), observation, Client("any-app", fhirUser: fhirUser)));
    }

    [Theory]
    [InlineData("{\"type\":\"deny\",\"action\":[{\"coding\":[{\"code\":\"access\"}]}]}")]
    [InlineData("{\"type\":\"deny\",\"data\":[{\"meaning\":\"related\",\"reference\":{\"reference\":\"Observation/r1\"}}]}")]
    [InlineData("{\"type\":\"deny\",\"class\":[{\"system\":\"urn:other\",\"code\":\"x\"}]}")]
    [InlineData("{\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr9\"}}]}")] // a nested rule without a type
    [InlineData("{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"somethingNew\":true}]}")]
    public void WhatHearthCannotEnforce_DeniesEverything(string provision)
    {
        var consent = Consent(provision);
        Assert.NotNull(ConsentDirective.Read(JsonNode.Parse(consent)!.AsObject())!.Unsupported);
        Assert.Equal("Deny", Decide(consent, Resource("Specimen"), Client("unrelated-app")));
    }

    /// <summary>A Consent given as text that Hearth cannot parse is not passed over: it denies (fail closed).</summary>
    [Theory]
    [InlineData("{\"resourceType\":\"Consent\",")]
    [InlineData("[]")]
    public void AConsentHearthCannotRead_DeniesEverything(string json)
    {
        var directive = ConsentDirective.Parse(json)!;
        Assert.NotNull(directive.Unsupported);
        Assert.Equal(ConsentOutcome.Deny, directive.Decide(Resource("Specimen").Facts, null, Client("unrelated-app"), Now).Outcome);
    }

    /// <summary>Nested deeper than Hearth parses (JSON depth 128): denies, where reading it as a node would have failed and ignored it.</summary>
    [Fact]
    public void AConsentNestedTooDeep_DeniesEverything()
    {
        var provision = "{\"type\":\"deny\"}";
        for (var i = 0; i < 70; i++)
        {
            provision = "{\"type\":\"permit\",\"provision\":[" + provision + "]}";
        }

        Assert.NotNull(ConsentDirective.Parse(Consent(provision))!.Unsupported);
        Assert.Null(ConsentDirective.Parse(Consent("{\"type\":\"permit\"}"))!.Unsupported);
    }

    [Fact]
    public void SeveralMatchingExceptions_ADenyWins()
    {
        var consent = Consent("{\"type\":\"permit\",\"class\":[{\"code\":\"Observation\"}]},{\"type\":\"deny\",\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"R\"}]}",
            rootType: "deny");
        Assert.Equal("Deny", Decide(consent, Resource("Observation", "R"), Client("a")));
        Assert.Equal("Permit", Decide(consent, Resource("Observation", "N"), Client("a")));
        Assert.Equal("Deny", Decide(consent, Resource("Condition", "N"), Client("a"))); // the root rule: deny
    }
}
