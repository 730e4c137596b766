using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Policies;
using Hearth.Authorization.Responses;
using Hearth.Authorization.Tokens;

namespace Hearth.Authorization.Tests.Policies;

/// <summary>
/// The ordered policy chain of the core: each policy permits, denies or abstains; the first deny
/// decides and is noted (policy and reason); nothing permitted is not granted; a policy outside
/// Hearth's own is one type handed to the adjudicator. Then the Consent policy's label obligations
/// and the organization a Consent's actor names.
/// </summary>
public class PolicyChainTests
{
    private const string Conf = TestSettings.Conf;
    private const string Obligation = LabelObligations.System;

    private static readonly Dictionary<string, ResolvedPatient?> Patients = new() { ["Patient/p1"] = TestResolution.Patient(new("urn:official:id", "10001")) };

    private static readonly PermissionSet ReadsP1 = PermissionSet.Parse("[" + Hearth.Testing.Permissions.For("10001", "*", "read", "\"*\"", false, "urn:official:id") + "]");

    private static string Obs(string labels = "")
        => "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}" + labels + "]},"
           + "\"subject\":{\"reference\":\"Patient/p1\"},\"status\":\"final\",\"code\":{\"text\":\"x\"}}";

    private static string ObligationLabel(string code) => ",{\"system\":\"" + Obligation + "\",\"code\":\"" + code + "\"}";

    /// <summary>A policy that answers one thing and counts how often it was asked.</summary>
    private sealed class Fixed(string name, PolicyVerdict verdict) : IResourcePolicy
    {
        public int Asked { get; private set; }

        public string Name => name;

        public PolicyVerdict Decide(in PolicyQuestion question)
        {
            Asked++;
            return verdict;
        }
    }

    private static (Judgement Judgement, PolicyLedger Ledger) Judge(IReadOnlyList<IResourcePolicy>? chain, string resource, PermissionSet permissions,
        FhirAction action = FhirAction.Read, IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>>? consents = null, RuleSettings? rules = null)
    {
        rules ??= TestSettings.Rules(("HEARTH_POLICIES", "token,consent"));
        var parsed = new ResponseFilter(rules).Parse(Encoding.UTF8.GetBytes(resource), judgeEntries: false, null);
        Assert.NotNull(parsed);
        var ledger = new PolicyLedger();
        var resolved = ResolvedReferences.From(Patients).WithConsents(consents ?? new Dictionary<string, IReadOnlyList<ConsentDirective>> { ["Patient/p1"] = [] }, DateTimeOffset.UnixEpoch, ledger);
        var adjudicator = chain is null ? new Adjudicator(rules) : new Adjudicator(rules, chain);
        return (adjudicator.Judge(parsed.RootFacts, resolved, permissions, action), ledger);
    }

    [Fact]
    public void TheChain_IsTheConfiguredOrder()
    {
        Assert.Equal(["token"], new Adjudicator(TestSettings.Rules()).Chain.Select(p => p.Name));
        Assert.Equal(["token", "consent"], new Adjudicator(TestSettings.Rules(("HEARTH_POLICIES", "token,consent"))).Chain.Select(p => p.Name));
    }

    [Theory]
    [InlineData("consent", "the token policy comes first")]
    [InlineData("consent,token", "the token policy comes first")]
    [InlineData("token,weekday", "'weekday' is not a policy")]
    [InlineData("token,consent,consent", "a policy is named twice")]
    public void BadChains_StopStartUp_SayingWhy(string policies, string why)
    {
        var e = Assert.Throws<HearthConfigurationException>(() => TestSettings.Create(("HEARTH_POLICIES", policies)));
        Assert.Contains("HEARTH_POLICIES", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void ANewPolicy_IsOneType_ItsDenyDecides_AndIsNoted()
    {
        var custom = new Fixed("weekday", PolicyVerdict.Deny(Decision.ConsentDenied, "closed on Sundays"));
        var (judgement, ledger) = Judge([new TokenPolicy(), custom], Obs(), ReadsP1);
        Assert.Equal(Decision.ConsentDenied, judgement.Decision);
        Assert.Equal(("weekday", "closed on Sundays"), (ledger.DecidingPolicy, ledger.Reason));
        Assert.Equal(1, custom.Asked);
    }

    [Fact]
    public void ATokenDeny_EndsTheChain_TheNextPolicyIsNotAsked()
    {
        var after = new Fixed("after", PolicyVerdict.Permit);
        var (judgement, ledger) = Judge([new TokenPolicy(), after], Obs(), PermissionSet.Parse("[]"));
        Assert.Equal(Decision.NotGranted, judgement.Decision);
        Assert.Equal(0, after.Asked);
        Assert.Equal(("token", null), (ledger.DecidingPolicy, ledger.Reason));
    }

    [Fact]
    public void NoPolicyPermits_NotGranted_AndAPermitAfterADenyCannotUndoIt()
    {
        Assert.Equal(Decision.NotGranted, Judge([new Fixed("quiet", PolicyVerdict.Abstain)], Obs(), ReadsP1).Judgement.Decision);
        var deny = new Fixed("first", PolicyVerdict.Deny(Decision.ExplicitlyDenied, "no"));
        Assert.Equal(Decision.ExplicitlyDenied, Judge([deny, new Fixed("second", PolicyVerdict.Permit)], Obs(), ReadsP1).Judgement.Decision);
    }

    [Fact]
    public void TheConsentPolicy_NeverGrants_WhatTheTokenDoesNot()
    {
        var permitAll = ConsentDirective.Read(JsonNode.Parse(
            "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"code\":\"patient-privacy\"}]},\"provision\":{\"type\":\"permit\"}}")!.AsObject())!;
        var consents = new Dictionary<string, IReadOnlyList<ConsentDirective>> { ["Patient/p1"] = [permitAll] };
        Assert.Equal(Decision.NotGranted, Judge(null, Obs(), PermissionSet.Parse("[]"), consents: consents).Judgement.Decision);
        Assert.Equal(Decision.Permit, Judge(null, Obs(), ReadsP1, consents: consents).Judgement.Decision);
    }

    [Theory]
    [InlineData("", FhirAction.Read, "Permit", false)]
    [InlineData("NOAUTH", FhirAction.Read, "Permit", true)] // served, with the no-further-disclosure header
    [InlineData("NOAUTH", FhirAction.Search, "Permit", true)]
    [InlineData("REDACT", FhirAction.Read, "ConsentDenied", false)] // removed
    [InlineData("REDACT", FhirAction.Search, "ConsentDenied", false)]
    [InlineData("REDACT", FhirAction.BulkExport, "ConsentDenied", false)]
    [InlineData("ENCRYPT", FhirAction.Read, "ConsentDenied", false)] // an obligation Hearth cannot apply denies
    [InlineData("NOAUTH,DELAU", FhirAction.Search, "ConsentDenied", false)]
    [InlineData("REDACT", FhirAction.Create, "Permit", false)] // a write is no disclosure
    [InlineData("ENCRYPT", FhirAction.Update, "Permit", false)]
    public void LabelObligations_AppliedToWhatIsDisclosed(string codes, FhirAction action, string expected, bool noAuth)
    {
        var labels = string.Concat(codes.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ObligationLabel));
        var granted = PermissionSet.Parse("[" + string.Join(",", new[] { "read", "create", "update", "bulk-export" }.Select(a => Hearth.Testing.Permissions.For("10001", "*", a, "\"*\"", false, "urn:official:id"))) + "]");
        var (judgement, ledger) = Judge(null, Obs(labels), granted, action);
        Assert.Equal(expected, judgement.Decision.ToString());
        Assert.Equal(noAuth, ledger.MustNotDiscloseFurther);
        Assert.Equal(expected == "Permit" ? "token" : "consent", ledger.DecidingPolicy);
    }

    [Fact]
    public void LabelObligations_InAnEmbeddedResource_CountForTheWhole()
    {
        var bundle = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":" + Obs(ObligationLabel("REDACT")) + "}]}";
        Assert.Equal(Decision.ConsentDenied, Judge(null, bundle, ReadsP1).Judgement.Decision);
    }

    [Fact]
    public void LabelObligations_WithoutTheConsentPolicy_AreNotApplied()
        => Assert.Equal(Decision.Permit, Judge(null, Obs(ObligationLabel("REDACT")), ReadsP1, rules: TestSettings.Rules()).Judgement.Decision);

    [Theory]
    [InlineData("{\"ihe_iua\":{\"subject_organization_id\":\"urn:oid:1.2.3\"}}", "urn:oid:1.2.3")]
    [InlineData("{\"extensions\":{\"ihe_iua\":{\"subject_organization_id\":\"Organization/o7\"}}}", "Organization/o7")]
    [InlineData("{\"ihe_iua\":{\"subject_organization_id\":7}}", null)]
    [InlineData("{\"subject_organization_id\":\"urn:oid:1.2.3\"}", null)] // not where IUA writes it
    public void Organization_ReadAsIheIuaWritesIt(string claims, string? expected)
    {
        using var doc = JsonDocument.Parse(claims);
        Assert.Equal(expected, TokenClaims.Read(doc.RootElement).Organization);
    }

    [Theory]
    [InlineData("{\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:oid:1.2.3\"}}", "urn:oid:1.2.3", "Deny")]
    [InlineData("{\"reference\":\"Organization/o7\"}", "Organization/o7", "Deny")]
    [InlineData("{\"reference\":\"Organization/o7\"}", "https://fhir.example/Organization/o7", "Deny")]
    [InlineData("{\"reference\":\"Organization/o7\"}", "Organization/o8", "Permit")]
    [InlineData("{\"reference\":\"Organization/o7\"}", null, "Permit")]
    public void AConsentsActor_MayNameTheOrganization(string reference, string? organization, string expected)
    {
        var consent = ConsentDirective.Read(JsonNode.Parse("{\"resourceType\":\"Consent\",\"id\":\"c9\",\"status\":\"active\",\"scope\":{\"coding\":[{\"code\":\"patient-privacy\"}]},"
            + "\"provision\":{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"actor\":[{\"role\":{\"text\":\"recipient\"},\"reference\":" + reference + "}]}]}}")!.AsObject())!;
        var resource = JsonNode.Parse(Obs())!.AsObject();
        var facts = new ResourceFacts("Observation", [new SecurityLabel(Conf, "N")], PatientLinkKind.Patients, ["Patient/p1"], []);
        var requester = new ConsentRequester("some-app", "Practitioner/pr1", [], false) { Organization = organization };
        Assert.Equal(expected, consent.Decide(facts, resource, requester, DateTimeOffset.UnixEpoch).Outcome.ToString());
    }

    [Fact]
    public void AConsentDeny_IsNotedWithTheConsent()
    {
        var deny = ConsentDirective.Read(JsonNode.Parse(
            "{\"resourceType\":\"Consent\",\"id\":\"c5\",\"status\":\"active\",\"scope\":{\"coding\":[{\"code\":\"patient-privacy\"}]},\"provision\":{\"type\":\"deny\"}}")!.AsObject())!;
        var (judgement, ledger) = Judge(null, Obs(), ReadsP1, consents: new Dictionary<string, IReadOnlyList<ConsentDirective>> { ["Patient/p1"] = [deny] });
        Assert.Equal(Decision.ConsentDenied, judgement.Decision);
        Assert.Equal(("consent", "Consent/c5 denies it"), (ledger.DecidingPolicy, ledger.Reason));
    }
}
