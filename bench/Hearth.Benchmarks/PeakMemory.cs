using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Benchmarks;

/// <summary>
/// What judging and writing a 5,000-entry search answer (~2.6 MB) holds at once, beyond the body:
/// the live managed memory while the parsed answer, its facts and judgement are alive (measured
/// after a full collection), plus the parser's pooled metadata (12 bytes per JSON token).
/// The answer is written as it is sent (counted here, as the gateway streams it to the client).
/// </summary>
internal static class PeakMemory
{
    public static void Run()
    {
        var rules = BenchFixtures.Rules();
        var filter = new ResponseFilter(rules);
        var labelN = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"*"},"scopes":[{"action":"read","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]""", [], null);
        var patients = Enumerable.Range(1, 20).ToDictionary(i => $"Patient/p{i:00}",
            i => (ResolvedPatient?)ResolvedPatient.From([new PatientIdentifier("urn:official:id", $"1{i:0000}")], ["urn:official:id"]));
        var resolved = ResolvedReferences.From(patients);
        var body = Bundle(5000);
        var metadata = Tokens(body) * 12L;
        for (var round = 0; round < 4; round++)
        {
            var (held, written) = Round(filter, body, resolved, labelN);
            if (round > 0) // the first round also holds what starting up made (the FHIR model, JIT)
            {
                Console.WriteLine($"body {body.Length / 1024} KB, written {written / 1024} KB: held {held / 1024} KB + parser metadata {metadata / 1024} KB = {(double)(held + metadata) / body.Length:F2}x the body");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (long Held, long Written) Round(ResponseFilter filter, byte[] body, ResolvedReferences resolved, PermissionSet permissions)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var parsed = filter.Parse(body, judgeEntries: true)!;
        var result = filter.Apply(parsed, resolved, permissions, FhirAction.Search);
        var output = new Counting();
        if (result.Edit is { } edit)
        {
            edit.Write(parsed.Document!, output);
        }

        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(result);
        parsed.Dispose();
        return (held, output.Length);
    }

    private static byte[] Bundle(int count)
    {
        var text = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" + count + ",\"entry\":[");
        for (var i = 0; i < count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"fullUrl\":\"http://fhir.example/r4/DiagnosticReport/").Append(Guid.NewGuid()).Append("\",\"resource\":{\"resourceType\":\"DiagnosticReport\",\"id\":\"")
                .Append(Guid.NewGuid()).Append("\",\"meta\":{\"versionId\":\"").Append(Guid.NewGuid()).Append("\",\"lastUpdated\":\"2026-11-29T07:00:00.000Z\",\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\"")
                .Append(i % 10 == 0 ? "R" : "N").Append("\"}]},\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:bench\",\"code\":\"bulk\"}]},\"subject\":{\"reference\":\"Patient/p")
                .Append((i % 20 + 1).ToString("00")).Append("\"},\"conclusion\":\"bulk report ").Append(i).Append("\"},\"search\":{\"mode\":\"match\"}}");
        }

        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    private static int Tokens(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        var count = 0;
        while (reader.Read())
        {
            count++;
        }

        return count;
    }

    private sealed class Counting : IJsonSink
    {
        public long Length { get; private set; }

        public void Write(ReadOnlySpan<byte> utf8) => Length += utf8.Length;
    }
}
