using System.Net;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Interactions;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Microsoft.AspNetCore.Http;

namespace Hearth.Bench;

/// <summary>
/// What the gateway's export download (<see cref="ExportFiles"/>, the code a download runs) holds
/// while it judges a large NDJSON file as it streams: live managed memory measured after a full
/// collection at each chunk's write (when the chunk's lines, facts and kept lines are all alive),
/// for files of 10,000 and 100,000 lines. The file is made as it is read (never held whole), its
/// patients are in the gateway's cache (as when warm), and every line is judged for real.
/// </summary>
public static class ExportPeak
{
    public static async Task RunAsync()
    {
        var values = new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = "http://fhir.example/r4", ["UMA_MODE"] = "false", ["UMA_SERVER_BASE"] = "http://auth.example",
            ["UMA_SERVER_PROTECTION_API_KEY"] = "k", ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
        };
        var settings = HearthSettings.Load(k => values.GetValueOrDefault(k));
        using var caches = new GatewayCaches(settings, TimeProvider.System);
        caches.LiveUntil(DateTimeOffset.UtcNow.AddHours(1));
        for (var i = 1; i <= 20; i++)
        {
            var reference = $"Patient/p{i:00}";
            var patient = ResolvedPatient.From([new PatientIdentifier("urn:official:id", $"1{i:0000}")], ["urn:official:id"])! with { Reference = reference };
            caches.Patients.Set(reference, patient, DateTimeOffset.UtcNow.AddHours(1), caches.Generation);
        }

        var files = new ExportFiles(settings, new ResponseFilter(settings.Rules), new Adjudicator(settings.Rules),
            new ReferenceResolver(settings, grains: null!, caches, TimeProvider.System), new Files(), TimeProvider.System);
        var permissions = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"DiagnosticReport"},"scopes":[{"action":"bulk-export","securityLabels":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}]""", [], null);
        var state = new RequestState(new FhirRequest(FhirInteraction.ExportFile, null, "job"), new RequestShape(QueryCollection.Empty, null, FhirFormat.Json),
            new Principal(permissions, DateTimeOffset.UtcNow.AddHours(1), "bench"), "https://gateway.example/fhir");

        foreach (var lines in new[] { 10_000, 10_000, 100_000 }) // the first run also holds what starting up made
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            long peak = 0, written = 0;
            var permitted = await files.JudgeAsync([$"http://fhir.example/r4/export/{lines}"], state, chunk =>
            {
                written += chunk.Length;
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - before);
                return Task.CompletedTask;
            }, ledger: null, CancellationToken.None);
            Console.WriteLine($"export file of {lines:N0} lines ({Generated.Size(lines) / 1024 / 1024} MB): {permitted:N0} permitted, {written / 1024 / 1024} MB written; held at most {peak / 1024} KB");
        }
    }

    private sealed class Files : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(new Handler());
    }

    private sealed class Handler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var lines = int.Parse(request.RequestUri!.Segments[^1], System.Globalization.CultureInfo.InvariantCulture);
            var content = new StreamContent(new Generated(lines));
            content.Headers.ContentType = new("application/fhir+ndjson");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    /// <summary>An NDJSON file of DiagnosticReports (one in ten labelled R), made line by line as it is read.</summary>
    private sealed class Generated(int lines) : Stream
    {
        private byte[] _line = [];
        private int _offset;
        private int _next;

        public static long Size(int lines)
        {
            long size = 0;
            for (var i = 0; i < lines; i++)
            {
                size += Line(i).Length;
            }

            return size;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset == _line.Length)
            {
                if (_next == lines)
                {
                    return 0;
                }

                _line = Line(_next++);
                _offset = 0;
            }

            var n = Math.Min(buffer.Length, _line.Length - _offset);
            _line.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        private static byte[] Line(int i) => Encoding.UTF8.GetBytes(
            "{\"resourceType\":\"DiagnosticReport\",\"id\":\"dr-" + i + "\",\"meta\":{\"versionId\":\"1\",\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\""
            + (i % 10 == 0 ? "R" : "N") + "\"}]},\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:bench\",\"code\":\"bulk\"}]},\"subject\":{\"reference\":\"Patient/p"
            + (i % 20 + 1).ToString("00", System.Globalization.CultureInfo.InvariantCulture) + "\"},\"conclusion\":\"bulk report " + i + " of the export, long enough to look like one\"}\n");

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
