using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Policies;
using Hearth.Authorization.Responses;

namespace Hearth.Benchmarks;

/// <summary>
/// Issue 26's Consent policy on the pure path, as a warm gateway runs it (the patients' Consents
/// already held): one Observation judged, and a 50-entry search answer judged, with
/// <c>HEARTH_POLICIES=token</c> (the baseline) and <c>token,consent</c> with the Consent the
/// bench seeds for every patient (a permit with a deny for one client, Observations labelled R),
/// for a requester with a client id (as a JWT's) that the deny does not name.
/// </summary>
[MemoryDiagnoser]
public class ConsentBenchmarks
{
    private Adjudicator _token = null!;
    private Adjudicator _consent = null!;
    private ResponseFilter _tokenFilter = null!;
    private ResponseFilter _consentFilter = null!;
    private PermissionSet _all = null!;
    private ResolvedReferences _resolved = null!;
    private ResolvedReferences _withConsents = null!;
    private ResourceFacts _observation = null!;
    private byte[] _bundle = null!;

    [GlobalSetup]
    public void Setup()
    {
        var token = BenchFixtures.Rules("token");
        var consent = BenchFixtures.Rules("token,consent");
        _token = new Adjudicator(token);
        _consent = new Adjudicator(consent);
        _tokenFilter = new ResponseFilter(token);
        _consentFilter = new ResponseFilter(consent);
        _all = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]""", [], null,
            requester: new ConsentRequester("bench-client", null, [], false));

        var patients = BenchFixtures.Patients(20);
        _resolved = ResolvedReferences.From(patients);
        var consents = patients.Keys.ToDictionary(p => p, p => (IReadOnlyList<ConsentDirective>)[ConsentDirective.Read(Consent(p))!], StringComparer.Ordinal);
        _withConsents = _resolved.WithConsents(consents, DateTimeOffset.UtcNow, ledger: null);
        _bundle = Encoding.UTF8.GetBytes(CoreBenchmarks.SearchSet(50));
        _observation = _tokenFilter.Parse(Encoding.UTF8.GetBytes(CoreBenchmarks.Observation(1, "N")), judgeEntries: false)!.RootFacts;
    }

    [Benchmark(Baseline = true)]
    public Decision Judge_OneResource_TokenPolicy() => _token.Judge(_observation, _resolved, _all, FhirAction.Read).Decision;

    [Benchmark]
    public Decision Judge_OneResource_TokenAndConsent() => _consent.Judge(_observation, _withConsents, _all, FhirAction.Read).Decision;

    [Benchmark]
    public int Search50_TokenPolicy() => Judge(_tokenFilter, _resolved);

    [Benchmark]
    public int Search50_TokenAndConsent() => Judge(_consentFilter, _withConsents);

    private int Judge(ResponseFilter filter, ResolvedReferences resolved)
    {
        using var parsed = filter.Parse(_bundle, judgeEntries: true)!;
        var result = filter.Apply(parsed, resolved, _all, FhirAction.Search);
        return result.Removed == 0 ? 50 : throw new InvalidOperationException($"{result.Removed} entries removed: the Consent should permit them all");
    }

    /// <summary>bench/run.sh's Consent: Observations labelled R denied to a client the bench never is.</summary>
    private static JsonObject Consent(string patient) => (JsonObject)JsonNode.Parse("""
        {"resourceType":"Consent","id":"c-PATIENT","status":"active","patient":{"reference":"PATIENT"},
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"text":"privacy"}],
         "provision":{"type":"permit","provision":[{"type":"deny","actor":[{"role":{"text":"recipient"},"reference":{"identifier":{"value":"not-a-bench-client"}}}],
           "class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}],
           "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}]}}
        """.Replace("PATIENT", patient, StringComparison.Ordinal))!;
}
