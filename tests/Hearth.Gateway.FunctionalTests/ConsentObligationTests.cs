using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// The Consent policy beyond the Consent, through a real gateway to the real FHIR server:
/// label obligations (v3-ObligationPolicy) on what is disclosed, a Consent whose actor is the
/// organization the user acts for (IHE IUA), and the deciding policy with its reason in the audit
/// record.
/// </summary>
[Collection(HearthCollection.Name)]
public class ConsentObligationTests(HearthEnvironment env)
{
    private const string Obligation = "http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy";

    private async Task<(string Patient, string Value)> PatientAsync()
    {
        var id = "co-" + Guid.NewGuid().ToString("N")[..10];
        var value = "o" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"" + value + "\"}]}");
        return (id, value);
    }

    private Task<string> ObservationAsync(string patient, string? obligation)
        => env.Fhir.PostAsync("Observation", "{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}"
            + (obligation is null ? "" : ",{\"system\":\"" + Obligation + "\",\"code\":\"" + obligation + "\"}") + "]},\"status\":\"final\","
            + "\"code\":{\"text\":\"obligation test\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");

    private static string DenyConsent(string patient, string actorReference)
        => "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
           + "\"category\":[{\"text\":\"privacy\"}],\"patient\":{\"reference\":\"Patient/" + patient + "\"},\"provision\":{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\","
           + "\"actor\":[{\"role\":{\"text\":\"recipient\"},\"reference\":" + actorReference + "}]}]}}";

    private Task<GatewayInstance> GatewayAsync(params (string Key, string? Value)[] more) => env.StartGatewayAsync([("HEARTH_POLICIES", "token,consent"), .. more]);

    [Fact]
    public async Task Obligations_NoAuthServedWithItsHeader_RedactRemoved_OneHearthCannotApplyDenied()
    {
        var (patient, value) = await PatientAsync();
        var plain = await ObservationAsync(patient, null);
        var noAuth = await ObservationAsync(patient, "NOAUTH");
        var redact = await ObservationAsync(patient, "REDACT");
        var encrypt = await ObservationAsync(patient, "ENCRYPT");
        await using var gateway = await GatewayAsync();
        var token = await env.Auth.TokenAsync("[" + Permission(value) + "]");

        using (var read = await gateway.Client.GetWithTokenAsync("Observation/" + noAuth, token))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("NOAUTH", Assert.Single(read.Headers.GetValues("Hearth-Obligation")));
            Assert.Contains("No further disclosure", string.Join(" ", read.Headers.GetValues("Warning")), StringComparison.Ordinal);
        }

        using (var read = await gateway.Client.GetWithTokenAsync("Observation/" + plain, token))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.False(read.Headers.Contains("Hearth-Obligation"));
        }

        foreach (var refused in new[] { redact, encrypt })
        {
            using var read = await gateway.Client.GetWithTokenAsync("Observation/" + refused, token);
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        }

        using var search = await gateway.Client.GetWithTokenAsync("Observation?subject=Patient/" + patient, token);
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        Assert.Equal(new[] { plain, noAuth }.Order(), (await search.JsonAsync()).EntryIds().Order()); // removed, as any redaction
        Assert.Equal("NOAUTH", Assert.Single(search.Headers.GetValues("Hearth-Obligation")));

        // Without the Consent policy the labels are not read (HEARTH_POLICIES=token, the default).
        Assert.Equal(HttpStatusCode.OK, (await env.Gateway.Client.GetWithTokenAsync("Observation/" + redact, token)).StatusCode);
    }

    [Fact]
    public async Task ConsentNamingAnOrganization_DeniesTheUsersActingForIt_IntrospectedAndJwt()
    {
        var (patient, value) = await PatientAsync();
        var observation = await ObservationAsync(patient, null);
        await env.Fhir.PostAsync("Consent", DenyConsent(patient, "{\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:oid:2.16.840.1.113883.3.72\"}}"));
        await using var gateway = await GatewayAsync();

        async Task<HttpStatusCode> IntrospectedAsync(string organization)
        {
            var token = await env.Auth.TokenAsync("[" + Permission(value) + "]",
                claimsJson: "{\"client_id\":\"any-app\",\"extensions\":{\"ihe_iua\":{\"subject_organization_id\":\"" + organization + "\"}}}");
            using var response = await gateway.Client.GetWithTokenAsync("Observation/" + observation, token);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await IntrospectedAsync("urn:oid:2.16.840.1.113883.3.72"));
        Assert.Equal(HttpStatusCode.OK, await IntrospectedAsync("urn:oid:2.16.840.1.113883.3.99"));

        await using var jwtGateway = await env.StartGatewayAsync([.. env.SmartSettings("jwt"), ("HEARTH_POLICIES", "token,consent")]);
        var claims = TestKeys.Claims(env.Oidc.Issuer, "openid");
        claims["permissions"] = System.Text.Json.JsonDocument.Parse("[" + Permission(value) + "]").RootElement;
        claims["ihe_iua"] = System.Text.Json.JsonDocument.Parse("{\"subject_organization_id\":\"urn:oid:2.16.840.1.113883.3.72\"}").RootElement;
        using var jwt = await jwtGateway.Client.GetWithTokenAsync("Observation/" + observation, TestKeys.Craft(claims));
        Assert.Equal(HttpStatusCode.Forbidden, jwt.StatusCode);
    }

    [Fact]
    public async Task ConsentDeny_AuditRecordNamesThePolicyAndTheConsent()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hearth-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (patient, value) = await PatientAsync();
            var observation = await ObservationAsync(patient, null);
            var consent = await env.Fhir.PostAsync("Consent", DenyConsent(patient, "{\"identifier\":{\"value\":\"clinic-app\"}}"));
            await using var gateway = await GatewayAsync(("HEARTH_AUDIT_LOG_FILE", file));
            var token = await env.Auth.TokenAsync("[" + Permission(value) + "]", claimsJson: "{\"client_id\":\"clinic-app\"}");
            using (var denied = await gateway.Client.GetWithTokenAsync("Observation/" + observation, token))
            {
                Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            }

            var record = (await AuditTrailTests.RecordsAsync(file, 1))[0]; // the one request this gateway saw
            Assert.Equal(observation, record["id"]!.GetValue<string>());
            Assert.Equal("deny", record["decision"]!.GetValue<string>());
            Assert.Equal("consent", record["policy"]!.GetValue<string>());
            Assert.Equal("Consent/" + consent + " denies it", record["policyReason"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
