using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;

namespace Hearth.Benchmarks;

/// <summary>
/// The pure pieces on every request's path, as a warm gateway runs them: classifying the request,
/// judging one resource against a token's permissions (patient, type and label matching), and the
/// answer of a 50-entry search (parse, judge, write the redacted Bundle, rewrite the base).
/// </summary>
[MemoryDiagnoser]
public class CoreBenchmarks
{
    private const string Conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    private const string Base = BenchFixtures.Base;

    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private RuleSettings _rules = null!;
    private Adjudicator _adjudicator = null!;
    private ResponseFilter _filter = null!;
    private PermissionSet _all = null!;
    private PermissionSet _labelN = null!;
    private ResourceFacts _observation = null!;
    private ResolvedReferences _resolved = null!;
    private byte[] _bundle = null!;
    private byte[] _from = null!;
    private byte[] _to = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rules = BenchFixtures.Rules();
        _adjudicator = new Adjudicator(_rules);
        _filter = new ResponseFilter(_rules);
        _all = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":"*"}]}]""", [], null);
        _labelN = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]""", [], null);

        _resolved = ResolvedReferences.From(BenchFixtures.Patients(20));
        _bundle = Encoding.UTF8.GetBytes(SearchSet(50));
        _observation = _filter.Parse(Encoding.UTF8.GetBytes(Observation(1, "N")), judgeEntries: false)!.RootFacts;
        _from = Encoding.UTF8.GetBytes(Base);
        _to = Encoding.UTF8.GetBytes("https://gateway.example/fhir");
    }

    [Benchmark]
    public Classification Classify_Read() => RequestClassifier.Classify("GET", "/Observation/obs-03-1", _rules.AllowedOperations);

    [Benchmark]
    public Classification Classify_Search() => RequestClassifier.Classify("GET", "/Observation", _rules.AllowedOperations);

    [Benchmark]
    public Decision Judge_OneResource_Permitted() => _adjudicator.Judge(_observation, _resolved, _all, FhirAction.Read).Decision;

    [Benchmark]
    public Decision Judge_OneResource_LabelFiltered() => _adjudicator.Judge(_observation, _resolved, _labelN, FhirAction.Read).Decision;

    /// <summary>A 50-entry search answer, half of it removed by label: parse, judge, write, rewrite.</summary>
    [Benchmark]
    public int Answer_50EntrySearch_Redacted()
    {
        using var parsed = _filter.Parse(_bundle, judgeEntries: true)!;
        var result = _filter.Apply(parsed, _resolved, _labelN, FhirAction.Search);
        _output.ResetWrittenCount();
        result.Edit!.Write(parsed.Document!, _output);
        var written = _output.WrittenMemory.ToArray();
        _output.ResetWrittenCount();
        UrlRewriter.Rewrite(written, _from, _to, _output);
        return _output.WrittenCount;
    }

    /// <summary>Only the reading part of the above: parse in place and the facts of every entry.</summary>
    [Benchmark]
    public int Parse_50EntrySearch()
    {
        using var parsed = _filter.Parse(_bundle, judgeEntries: true)!;
        return parsed.Entries!.Count;
    }

    [Benchmark]
    public int RewriteBase_50EntryBundle()
    {
        _output.ResetWrittenCount();
        UrlRewriter.Rewrite(_bundle, _from, _to, _output);
        return _output.WrittenCount;
    }

    /// <summary>The body's size, to read allocations against (the issue's bar: at most 3× the body).</summary>
    public int BodyBytes => _bundle.Length;

    internal static string Observation(int i, string label)
        => "{\"resourceType\":\"Observation\",\"id\":\"obs-" + i + "\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"2026-11-01T10:00:00.000Z\",\"security\":[{\"system\":\"" + Conf
           + "\",\"code\":\"" + label + "\"}]},\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\"}]}],"
           + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},\"subject\":{\"reference\":\"Patient/p" + ((i % 20) + 1).ToString("00")
           + "\"},\"effectiveDateTime\":\"2026-11-01T10:00:00Z\",\"valueQuantity\":{\"value\":" + (60 + i) + ",\"unit\":\"beats/minute\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"}}";

    internal static string SearchSet(int count)
        => "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"self\",\"url\":\"" + Base + "/Observation?_count=" + count + "\"},{\"relation\":\"next\",\"url\":\""
           + Base + "/Observation?_count=" + count + "&_offset=" + count + "\"}],\"entry\":["
           + string.Join(',', Enumerable.Range(1, count).Select(i => "{\"fullUrl\":\"" + Base + "/Observation/obs-" + i + "\",\"resource\":" + Observation(i, i % 2 == 0 ? "N" : "R") + ",\"search\":{\"mode\":\"match\"}}"))
           + "]}";
}
