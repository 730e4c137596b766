using System.Net;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Ids are not up for grabs. The attack: a Patient was deleted, its Observations remain; a token of
/// another patient PUTs a Patient under the deleted id with its own identifier, and the orphaned
/// Observations become its own. An update that would create is now judged against the last
/// version before the delete, and creating a Patient under a client-chosen id needs create for
/// any patient (resources may already point at that id).
/// </summary>
[Collection(HearthCollection.Name)]
public class IdTakeoverTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private static string Patient(string id, string identifier)
        => "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},"
           + "\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"" + identifier + "\"}]}";

    private static string Observation(string id, string patientId)
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\","
           + "\"code\":{\"text\":\"orphan\"},\"subject\":{\"reference\":\"Patient/" + patientId + "\"}}";

    /// <summary>A deleted Patient (identifier DEL-x) with an Observation left behind, and the attacker's identifier OFF-x.</summary>
    private async Task<(string Deleted, string Orphan, string Attacker, string Victim)> SeedAsync()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var (deleted, orphan) = ("rt-del-" + tag, "rt-obs-" + tag);
        await env.Fhir.PutAsync($"Patient/{deleted}", Patient(deleted, "DEL-" + tag));
        await env.Fhir.PutAsync($"Observation/{orphan}", Observation(orphan, deleted));
        await env.Fhir.DeleteAsync($"Patient/{deleted}");
        return (deleted, orphan, "OFF-" + tag, "DEL-" + tag);
    }

    [Fact]
    public async Task UpdateAsCreate_OfADeletedPatient_JudgedAgainstItsLastVersion_403_OrphansStayHidden()
    {
        var (deleted, orphan, attacker, _) = await SeedAsync();
        var token = await env.TokenAsync("[" + Permission(attacker, action: "*") + "]");
        using (var read = await Client.GetWithTokenAsync($"Observation/{orphan}", token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        }

        using var takeover = await Client.SendAsync("PUT", $"Patient/{deleted}", token, Patient(deleted, attacker));
        Assert.Equal(HttpStatusCode.Forbidden, takeover.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await env.Fhir.GetAsync($"Patient/{deleted}")).Status);
        using var after = await Client.GetWithTokenAsync($"Observation/{orphan}", token);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
    }

    [Fact]
    public async Task UpdateAsCreate_OfANeverUsedPatientId_NeedsCreateForAnyPatient()
    {
        var id = "rt-new-" + Guid.NewGuid().ToString("N")[..10];
        var own = await env.TokenAsync("[" + Permission("OFF-1", action: "*") + "]");
        using (var refused = await Client.SendAsync("PUT", $"Patient/{id}", own, Patient(id, "OFF-1")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await env.Fhir.GetAsync($"Patient/{id}")).Status);
        var anyPatient = await env.TokenAsync("[" + Permission("*", "Patient", "create") + "]");
        using var created = await Client.SendAsync("PUT", $"Patient/{id}", anyPatient, Patient(id, "OFF-1"));
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, created.StatusCode.ToString());
        Assert.Equal(HttpStatusCode.OK, (await env.Fhir.GetAsync($"Patient/{id}")).Status);
    }

    [Fact]
    public async Task Control_RestoringADeletedPatient_ByWhoMayChangeItsLastVersion_Works()
    {
        var (deleted, orphan, _, victim) = await SeedAsync();
        var token = await env.TokenAsync("[" + Permission(victim, action: "*") + "," + Permission("*", "Patient", "create") + "]");
        using var restored = await Client.SendAsync("PUT", $"Patient/{deleted}", token, Patient(deleted, victim));
        Assert.True(restored.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, restored.StatusCode.ToString());
        using var read = await Client.GetWithTokenAsync($"Observation/{orphan}", token);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task UpdateAsCreate_OfADeletedObservation_JudgedAgainstItsLastVersion()
    {
        var id = "rt-dobs-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", Observation(id, "p02"));
        await env.Fhir.DeleteAsync($"Observation/{id}");
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        using var response = await Client.SendAsync("PUT", $"Observation/{id}", token, Observation(id, "p01"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // p02's Observation id is not the token's to take
        Assert.Equal(HttpStatusCode.Gone, (await env.Fhir.GetAsync($"Observation/{id}")).Status);
    }
}
