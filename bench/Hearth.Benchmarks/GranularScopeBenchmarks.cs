using System.Text;
using BenchmarkDotNet.Attributes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Benchmarks;

/// <summary>
/// Issue 24's granular-scope tokens judging the same 2-entry search answer (parse, judge every
/// entry): a plain token (<c>user/Observation.rs</c>); 255 scopes of 76 conditions each, none of
/// them matching, and one granular scope that matches; 5 such scopes (what a 6.7 KB JWT carries).
/// The goal: each within 2× the plain token. Before, each condition re-serialised and re-parsed
/// the resource: ~4 s for the 255×76 token.
/// </summary>
[MemoryDiagnoser]
public class GranularScopeBenchmarks
{
    private const string Base = BenchFixtures.Base;

    private ResponseFilter _filter = null!;
    private ResolvedReferences _resolved = null!;
    private PermissionSet _plain = null!;
    private PermissionSet _wide = null!;
    private PermissionSet _jwt = null!;
    private byte[] _bundle = null!;

    /// <summary>The scopes of the tokens: <paramref name="count"/> scopes of 76 conditions over Observation's token parameters, and one that matches.</summary>
    public static string[] Scopes(int count)
    {
        string[] parameters = ["category", "code", "status", "identifier", "combo-code", "component-code", "method", "data-absent-reason"];
        var conditions = string.Join('&', Enumerable.Range(0, 76).Select(i => $"{parameters[i % parameters.Length]}=x{i}"));
        return [.. Enumerable.Range(0, count).Select(i => $"user/Observation.rs?{conditions}&code=c{i}"), "user/Observation.rs?category=vital-signs"];
    }

    [GlobalSetup]
    public void Setup()
    {
        _filter = new ResponseFilter(BenchFixtures.Rules());
        _resolved = ResolvedReferences.From(BenchFixtures.Patients(2));
        _plain = PermissionSet.From(null, ["user/Observation.rs"], null);
        _wide = PermissionSet.From(null, Scopes(255), null);
        _jwt = PermissionSet.From(null, Scopes(5), null);
        _bundle = Encoding.UTF8.GetBytes("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
            + string.Join(',', Enumerable.Range(1, 2).Select(i => "{\"fullUrl\":\"" + Base + "/Observation/obs-" + i + "\",\"resource\":{\"resourceType\":\"Observation\",\"id\":\"obs-" + i
                + "\",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\"}]}],"
                + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/p0" + i + "\"}},\"search\":{\"mode\":\"match\"}}"))
            + "]}");
    }

    [Benchmark(Baseline = true)]
    public int Search2_PlainToken() => Judge(_plain);

    [Benchmark]
    public int Search2_255ScopesOf76Conditions() => Judge(_wide);

    [Benchmark]
    public int Search2_5ScopesOf76Conditions_AsInA6KbJwt() => Judge(_jwt);

    private int Judge(PermissionSet permissions)
    {
        using var parsed = _filter.Parse(_bundle, judgeEntries: true)!;
        var result = _filter.Apply(parsed, _resolved, permissions, FhirAction.Search);
        return result.Removed == 0 ? 2 : throw new InvalidOperationException($"{result.Removed} entries removed: the scopes should permit both");
    }
}
