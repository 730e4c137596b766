using System.Net;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A bulk export under the Consent policy, through a real gateway to the real FHIR server's export:
/// a file whose lines were had only by breaking the glass is downloaded as such (its Warning, its
/// audit record marked, its place in the audit queue held), and one whose lines came to need it
/// after the manifest was made is not served at all (its headers, sent first, would not say so).
/// The patient and Consent are <see cref="ConsentTests"/>'s: R-labelled Observations denied to
/// clinic-app, with a permit for purpose BTG.
/// </summary>
[Collection(HearthCollection.Name)]
public class ConsentExportTests(HearthEnvironment env)
{
    private static Task<HttpResponseMessage> SendAsync(GatewayInstance gateway, string path, string token, bool preferAsync)
        => gateway.Client.SendAsync("GET", path, token, accept: "application/fhir+json", prefer: preferAsync ? "respond-async" : null);

    /// <summary>Exports the patient's Observations; the manifest's answer and its one file's URL.</summary>
    private static async Task<(HttpResponseMessage Manifest, string File)> ExportAsync(GatewayInstance gateway, string patient, string token)
    {
        string status;
        using (var kickOff = await SendAsync(gateway, "$export?_type=Observation&_typeFilter=" + Uri.EscapeDataString("Observation?subject=Patient/" + patient), token, preferAsync: true))
        {
            Assert.Equal(HttpStatusCode.Accepted, kickOff.StatusCode);
            status = kickOff.Content.Headers.ContentLocation?.ToString() ?? kickOff.Headers.GetValues("Content-Location").Single();
        }

        using (var first = await SendAsync(gateway, status, token, preferAsync: false))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode); // the dev server answers 202 to the first poll
        }

        var manifest = await SendAsync(gateway, status, token, preferAsync: false);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        var json = JsonNode.Parse(await manifest.Content.ReadAsStringAsync())!;
        return (manifest, json["output"]!.AsArray().Single()!["url"]!.GetValue<string>());
    }

    private static string Warnings(HttpResponseMessage response) => response.Headers.TryGetValues("Warning", out var values) ? string.Join(" ", values) : "";

    private Task<string> ExportTokenAsync(string client, string? purpose = null)
        => env.Auth.TokenAsync("[" + Permission("*", "Observation", "bulk-export") + "]",
            claimsJson: "{\"client_id\":\"" + client + "\"" + (purpose is null ? "" : ",\"purpose_of_use\":\"" + purpose + "\"") + "}");

    [Fact]
    public async Task ExportFile_HadByBreakingTheGlass_DownloadedWithTheWarningAndItsAuditRecord()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (patient, _, restricted, normal, _) = await ConsentTests.PatientAsync(env);
            await env.Fhir.PostAsync("Consent", ConsentTests.Consent(patient));
            await using var gateway = await env.StartGatewayAsync(("HEARTH_POLICIES", "token,consent"), ("HEARTH_BTG_CLIENTS", "clinic-app"), ("HEARTH_AUDIT_LOG_FILE", file));
            var token = await ExportTokenAsync("clinic-app", "BTG");

            var (manifest, url) = await ExportAsync(gateway, patient, token);
            using (manifest)
            {
                Assert.Contains("Break-the-glass", Warnings(manifest), StringComparison.Ordinal);
            }

            using (var download = await SendAsync(gateway, url, token, preferAsync: false))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                Assert.Contains("Break-the-glass", Warnings(download), StringComparison.Ordinal);
                var text = await download.Content.ReadAsStringAsync();
                Assert.Contains(restricted, text, StringComparison.Ordinal);
                Assert.Contains(normal, text, StringComparison.Ordinal);
            }

            var records = await AuditTrailTests.RecordsAsync(file, 4); // kick-off, two polls, the download
            var downloaded = Assert.Single(records, r => r["interaction"]?.GetValue<string>() == "export-file");
            Assert.True(downloaded["breakTheGlass"]?.GetValue<bool>());

            // The same client without purpose BTG: the Consent's deny holds in the file, and nothing says otherwise.
            var plain = await ExportTokenAsync("clinic-app");
            var (plainManifest, plainUrl) = await ExportAsync(gateway, patient, plain);
            plainManifest.Dispose();
            using var withoutGlass = await SendAsync(gateway, plainUrl, plain, preferAsync: false);
            Assert.Equal(HttpStatusCode.OK, withoutGlass.StatusCode);
            Assert.DoesNotContain("Break-the-glass", Warnings(withoutGlass), StringComparison.Ordinal);
            var lines = await withoutGlass.Content.ReadAsStringAsync();
            Assert.DoesNotContain(restricted, lines, StringComparison.Ordinal);
            Assert.Contains(normal, lines, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ExportFile_ThatCameToNeedTheGlassAfterItsManifest_IsNotServed()
    {
        var (patient, value, restricted, _, _) = await ConsentTests.PatientAsync(env);
        await using var gateway = await env.StartGatewayAsync(("HEARTH_POLICIES", "token,consent"), ("HEARTH_BTG_CLIENTS", "clinic-app"));
        var token = await ExportTokenAsync("clinic-app", "BTG");
        var (manifest, url) = await ExportAsync(gateway, patient, token);
        using (manifest)
        {
            Assert.DoesNotContain("Break-the-glass", Warnings(manifest), StringComparison.Ordinal); // no Consent yet
        }

        var portal = await env.Auth.TokenAsync("[" + Permission(value, action: "*") + "]", claimsJson: "{\"client_id\":\"patient-portal\"}");
        using (var written = await gateway.Client.SendAsync("POST", "Consent", portal, ConsentTests.Consent(patient)))
        {
            Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        }

        // The file's lines now pass only by breaking the glass, which its answer would not say: refused before a byte of it.
        using var download = await SendAsync(gateway, url, token, preferAsync: false);
        Assert.Equal(HttpStatusCode.BadGateway, download.StatusCode);
        Assert.DoesNotContain(restricted, await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
