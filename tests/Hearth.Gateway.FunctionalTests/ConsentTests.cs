using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A patient's privacy Consent enforced by a real gateway (HEARTH_POLICIES=token,consent) against
/// the real FHIR server. Each test makes a patient of its own: its Consent denies Observations
/// labelled R, and Conditions, to the client clinic-app, with a nested permit for purpose BTG; the
/// gateway lets er-app break the glass (HEARTH_BTG_CLIENTS).
/// </summary>
[Collection(HearthCollection.Name)]
public class ConsentTests(HearthEnvironment env)
{
    private const string ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

    internal static string Consent(string patient, string? period = null)
    {
        string Deny(string conditions) => "{\"type\":\"deny\",\"actor\":[{\"role\":{\"text\":\"recipient\"},\"reference\":{\"identifier\":{\"value\":\"clinic-app\"}}}]," + conditions
            + ",\"provision\":[{\"type\":\"permit\",\"purpose\":[{\"system\":\"" + ActReason + "\",\"code\":\"BTG\"}]}]}";
        return "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
               + "\"category\":[{\"text\":\"privacy\"}],\"patient\":{\"reference\":\"Patient/" + patient + "\"},\"provision\":{\"type\":\"permit\"" + (period is null ? "" : ",\"period\":" + period)
               + ",\"provision\":[" + Deny("\"class\":[{\"system\":\"http://hl7.org/fhir/resource-types\",\"code\":\"Observation\"}],\"securityLabel\":[{\"system\":\"" + Conf + "\",\"code\":\"R\"}]")
               + "," + Deny("\"class\":[{\"system\":\"http://hl7.org/fhir/resource-types\",\"code\":\"Condition\"}]") + "]}}";
    }

    /// <summary>A patient with an Observation labelled R, one labelled N and a Condition; their ids.</summary>
    internal static async Task<(string Patient, string Value, string Restricted, string Normal, string Condition)> PatientAsync(HearthEnvironment env)
    {
        var id = "cp-" + Guid.NewGuid().ToString("N")[..10];
        var value = "c" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"" + value + "\"}]}");
        string Obs(string label) => "{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + label + "\"}]},\"status\":\"final\","
            + "\"code\":{\"text\":\"consent test\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}";
        var restricted = await env.Fhir.PostAsync("Observation", Obs("R"));
        var normal = await env.Fhir.PostAsync("Observation", Obs("N"));
        var condition = await env.Fhir.PostAsync("Condition", "{\"resourceType\":\"Condition\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},"
            + "\"code\":{\"text\":\"consent test\"},\"subject\":{\"reference\":\"Patient/" + id + "\"}}");
        return (id, value, restricted, normal, condition);
    }

    private Task<string> TokenAsync(string patientValue, string client, string? purpose = null, string action = "read")
        => env.Auth.TokenAsync("[" + Permission(patientValue, action: action) + "]",
            claimsJson: "{\"client_id\":\"" + client + "\"" + (purpose is null ? "" : ",\"purpose_of_use\":\"" + purpose + "\"") + "}");

    private Task<GatewayInstance> GatewayAsync(params (string Key, string? Value)[] more)
        => env.StartGatewayAsync([("HEARTH_POLICIES", "token,consent"), ("HEARTH_BTG_CLIENTS", "er-app,clinic-app"), .. more]);

    private static async Task<HttpStatusCode> StatusAsync(GatewayInstance gateway, string path, string token)
    {
        using var response = await gateway.Client.GetWithTokenAsync(path, token);
        return response.StatusCode;
    }

    [Fact]
    public async Task ConsentDenies_TheClientItNames_AnotherClientStillSees()
    {
        var (patient, value, restricted, normal, condition) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", Consent(patient));
        await using var gateway = await GatewayAsync();
        var clinic = await TokenAsync(value, "clinic-app");
        var other = await TokenAsync(value, "other-app");

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + restricted, clinic));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + normal, clinic));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Condition/" + condition, clinic));
        using (var search = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/" + patient, clinic))
        {
            Assert.Equal([normal], (await search.JsonAsync()).EntryIds()); // redacted, as any search
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + restricted, other));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Condition/" + condition, other));
    }

    [Fact]
    public async Task BreakTheGlass_AllowedClient_ServedWithAWarningAndItsAuditRecord_AnyOtherRefused()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (patient, value, restricted, _, _) = await PatientAsync(env);
            await env.Fhir.PostAsync("Consent", Consent(patient));
            await using var gateway = await GatewayAsync(("HEARTH_BTG_CLIENTS", "clinic-app"), ("HEARTH_AUDIT_LOG_FILE", file));

            using (var broken = await gateway.Client.GetWithTokenAsync("Observation/" + restricted, await TokenAsync(value, "clinic-app", "BTG")))
            {
                Assert.Equal(HttpStatusCode.OK, broken.StatusCode);
                Assert.Contains("Break-the-glass", string.Join(" ", broken.Headers.GetValues("Warning")), StringComparison.Ordinal);
            }

            // Breaking the glass passes a Consent, never a grant the token lacks.
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/obs-18-1", await TokenAsync(value, "clinic-app", "BTG")));

            var record = (await AuditTrailTests.RecordsAsync(file, 2)).Single(r => r["id"]?.GetValue<string>() == restricted); // the two requests above
            Assert.True(record["breakTheGlass"]!.GetValue<bool>());
            Assert.Equal(["BTG"], record["purposeOfUse"]!.AsArray().Select(p => p!.GetValue<string>()));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task DecidingPolicy_AndBrokenGlass_Counted()
    {
        var (patient, value, restricted, _, _) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", Consent(patient));
        var (gateway, metricsPort) = await env.StartGatewayWithMetricsAsync(("HEARTH_POLICIES", "token,consent"), ("HEARTH_BTG_CLIENTS", "clinic-app"));
        await using var _ = gateway;

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + restricted, await TokenAsync(value, "clinic-app"))); // the Consent
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/obs-18-1", await TokenAsync(value, "clinic-app"))); // the token
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + restricted, await TokenAsync(value, "clinic-app", "BTG")));

        using var scraper = new HttpClient();
        var metrics = (await scraper.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics")).Split('\n');
        double Sum(string name, params string[] labels) => metrics.Where(l => l.StartsWith(name, StringComparison.Ordinal) && labels.All(x => l.Contains(x, StringComparison.Ordinal)))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, Sum("hearth_decisions_total{", "decision=\"deny\"", "policy=\"consent\""));
        Assert.Equal(1, Sum("hearth_decisions_total{", "decision=\"deny\"", "policy=\"token\""));
        Assert.Equal(1, Sum("hearth_break_glass_total"));
    }

    [Fact]
    public async Task BreakTheGlass_WhoseAuditRecordCannotBeQueued_Refused()
    {
        var fifo = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
        }

        try
        {
            var (patient, value, restricted, normal, _) = await PatientAsync(env);
            await env.Fhir.PostAsync("Consent", Consent(patient));
            await using var gateway = await GatewayAsync(("HEARTH_BTG_CLIENTS", "clinic-app"), ("HEARTH_AUDIT_LOG_FILE", fifo), ("HEARTH_AUDIT_BUFFER", "3"));
            var clinic = await TokenAsync(value, "clinic-app");
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + normal, clinic)); // a sink nobody reads: the buffer fills
            }

            using var broken = await gateway.Client.GetWithTokenAsync("Observation/" + restricted, await TokenAsync(value, "clinic-app", "BTG"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, broken.StatusCode);
            Assert.False(broken.Headers.Contains("Warning"));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + normal, clinic)); // other answers are still served (their records dropped, counted)
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact]
    public async Task BreakTheGlass_FromAClientNotAllowed_DoesNotPassTheConsent()
    {
        var (patient, value, restricted, _, _) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", Consent(patient));
        await using var gateway = await GatewayAsync(("HEARTH_BTG_CLIENTS", "er-app"));

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + restricted, await TokenAsync(value, "clinic-app", "BTG")));
    }

    [Fact]
    public async Task ConsentHearthCannotEnforce_DeniesThePatientsResources_LoggedOnce()
    {
        var (patient, value, _, normal, _) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", "{\"resourceType\":\"Consent\",\"id\":\"x\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":"
            + "\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"patient\":{\"reference\":\"Patient/" + patient + "\"},"
            + "\"provision\":{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"action\":[{\"coding\":[{\"code\":\"disclose\"}]}]}]}}");
        await using var gateway = await GatewayAsync(("HEARTH_PATIENT_CACHE_SECONDS", "1"));
        var anyone = await TokenAsync(value, "other-app");

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + normal, anyone)); // fail closed: Hearth does not enforce "action"
        await Task.Delay(1200); // the Consents are read again
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + normal, anyone));
        Assert.Single(gateway.Logs.Lines, l => l.Contains("cannot be enforced as written", StringComparison.Ordinal) && l.Contains("Patient/" + patient, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExpiredConsent_HasNoEffect()
    {
        var (patient, value, restricted, _, condition) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", Consent(patient, period: "{\"start\":\"2020-01-01\",\"end\":\"2021-01-01\"}"));
        await using var gateway = await GatewayAsync();
        var clinic = await TokenAsync(value, "clinic-app");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + restricted, clinic));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Condition/" + condition, clinic));
    }

    [Fact]
    public async Task ConsentWrittenThroughHearth_TakesEffectOnTheNextRequest()
    {
        var (patient, value, restricted, _, _) = await PatientAsync(env);
        await using var gateway = await GatewayAsync();
        var clinic = await TokenAsync(value, "clinic-app");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "Observation/" + restricted, clinic)); // no Consent yet (and now cached)

        var writer = await TokenAsync(value, "patient-portal", action: "*");
        using (var written = await gateway.Client.SendAsync("POST", "Consent", writer, Consent(patient)))
        {
            Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, "Observation/" + restricted, clinic));
    }

    [Fact]
    public async Task ConsentPolicyOff_ConsentsAreNotRead()
    {
        var (patient, value, restricted, _, _) = await PatientAsync(env);
        await env.Fhir.PostAsync("Consent", Consent(patient));
        var clinic = await TokenAsync(value, "clinic-app");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(env.Gateway, "Observation/" + restricted, clinic)); // HEARTH_POLICIES=token (the default)
    }
}
