using System.Net;
using Hearth.Testing;
using static Hearth.Cluster.Tests.ClusterFixture;

namespace Hearth.Cluster.Tests;

/// <summary>
/// A patient's Consent across the cluster (HEARTH_POLICIES=token,consent): written through one
/// gateway, it holds on the next request on the other, whose cache had its patient without one.
/// </summary>
public partial class ClusterTests
{
    [Fact]
    public async Task Consent_WrittenThroughOneGateway_TakesEffectOnTheOtherAtOnce()
    {
        var patient = "cc-" + Guid.NewGuid().ToString("N")[..10];
        var value = "v" + Guid.NewGuid().ToString("N")[..10];
        await cluster.PutDirectAsync("Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"" + value + "\"}]}");
        var observation = await cluster.Fhir.PostAsync("Observation", "{\"resourceType\":\"Observation\",\"meta\":{\"security\":[{\"system\":\"" + Permissions.Confidentiality
            + "\",\"code\":\"R\"}]},\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        var clinic = await cluster.Auth.TokenAsync("[" + Permission(value) + "]", claimsJson: "{\"client_id\":\"clinic-app\"}");
        var portal = await cluster.Auth.TokenAsync("[" + Permissions.For(value, action: "*") + "]", claimsJson: "{\"client_id\":\"patient-portal\"}");
        var (writer, reader) = (cluster.Gateways[0], cluster.Gateways[1]);

        using (var before = await reader.GetAsync("Observation/" + observation, clinic))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // no Consent yet: the reading gateway now holds that
        }

        var consent = "{\"resourceType\":\"Consent\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
            + "\"patient\":{\"reference\":\"Patient/" + patient + "\"},\"provision\":{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\","
            + "\"actor\":[{\"reference\":{\"identifier\":{\"value\":\"clinic-app\"}}}],\"class\":[{\"code\":\"Observation\"}]}]}}";
        using var write = new HttpRequestMessage(HttpMethod.Post, "Consent") { Content = new StringContent(consent, System.Text.Encoding.UTF8, "application/fhir+json") };
        write.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", portal);
        using (var written = await writer.Client.SendAsync(write))
        {
            Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        }

        using var after = await reader.GetAsync("Observation/" + observation, clinic);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
    }
}
