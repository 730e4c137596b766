using System.Net;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Caching;
using Hearth.Gateway.Interactions;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Microsoft.AspNetCore.Http;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// An export download judges its lines in chunks bounded in bytes as well as in lines: a FHIR server
/// whose lines are large (each may be up to a single answer's 64 MiB) cannot make one chunk hold
/// hundreds of them at once. The download code itself (<see cref="ExportFiles"/>), fed a file of
/// 1 MiB lines; everything it needs is real but the FHIR server's HTTP answer.
/// </summary>
public class ExportChunkTests
{
    private const int Lines = 40;
    private const int LineBytes = 1024 * 1024;

    [Fact]
    public async Task LinesOfAMebibyte_JudgedInChunksOfAtMost16MiB_EveryLineServed()
    {
        var values = new Dictionary<string, string?>
        {
            ["FHIR_SERVER_BASE"] = "http://fhir.example/r4", ["UMA_MODE"] = "false", ["UMA_SERVER_BASE"] = "http://auth.example",
            ["UMA_SERVER_PROTECTION_API_KEY"] = "k", ["DESIGNATED_PATIENT_ID_SYSTEMS"] = "urn:official:id",
        };
        var settings = HearthSettings.Load(k => values.GetValueOrDefault(k));
        using var caches = new GatewayCaches(settings, TimeProvider.System);
        var files = new ExportFiles(settings, new ResponseFilter(settings.Rules), new Adjudicator(settings.Rules),
            new ReferenceResolver(settings, grains: null!, caches, TimeProvider.System), new OneFile(), TimeProvider.System);
        var permissions = PermissionSet.From("""[{"resource_set_id":{"patientId":"*","resourceType":"Organization"},"scopes":[{"action":"bulk-export","securityLabels":"*"}]}]""", [], null);
        var state = new RequestState(new FhirRequest(FhirInteraction.ExportFile, null, "job"), new RequestShape(QueryCollection.Empty, null, FhirFormat.Json),
            new Principal(permissions, DateTimeOffset.UtcNow.AddHours(1), "test"), "https://gateway.example/fhir");

        var writes = new List<int>();
        var permitted = await files.JudgeAsync(["http://fhir.example/r4/export-file"], state, chunk =>
        {
            writes.Add(chunk.Length);
            return Task.CompletedTask;
        }, ledger: null, CancellationToken.None);

        Assert.Equal(Lines, permitted);
        Assert.Equal(OneFile.Body.Length, writes.Sum());
        Assert.True(writes.Count >= 3, $"{writes.Count} chunks for {Lines} lines of 1 MiB");
        Assert.All(writes, bytes => Assert.InRange(bytes, 1, 16 * LineBytes + LineBytes));
    }

    private sealed class OneFile : IHttpClientFactory
    {
        public static readonly byte[] Body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, Lines).Select(i =>
            $"{{\"resourceType\":\"Organization\",\"id\":\"org-{i}\",\"name\":\"{new string('n', LineBytes - 64)}\"}}\n")));

        public HttpClient CreateClient(string name) => new(new Handler());

        private sealed class Handler : HttpMessageHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var content = new ByteArrayContent(Body);
                content.Headers.ContentType = new("application/fhir+ndjson");
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
            }
        }
    }
}
