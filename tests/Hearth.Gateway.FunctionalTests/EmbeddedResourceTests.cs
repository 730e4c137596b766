using System.Net;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// Every resource inside a resource is judged as part of it (contained resources, the entries of a
/// stored Bundle), and a Binary by its securityContext. The attacks: a token for everything except
/// patient p02 read a stored Bundle holding p02's Patient and Observation, an Observation of p01
/// containing one of p02, an N resource containing an R one, and a Binary whose securityContext is
/// p02 (the discharge letter).
/// </summary>
[Collection(HearthCollection.Name)]
public class EmbeddedResourceTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private static string Label(string code) => "\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"" + code + "\"}]}";

    private static string Obs(string id, string patient, string label = "N", string extra = "")
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\"," + Label(label) + ",\"status\":\"final\",\"code\":{\"text\":\"embedded\"},"
           + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}" + extra + "}";

    /// <summary>Every read, except of patient p02.</summary>
    private Task<string> AllButPatient2Async() => env.TokenAsync("[" + Permission("*") + "," + Permission("10002", deny: true) + "]");

    private async Task<HttpStatusCode> ReadAsync(string path, string token)
    {
        using var response = await Client.GetWithTokenAsync(path, token);
        return response.StatusCode;
    }

    [Fact]
    public async Task StoredBundle_WithAnotherPatientsData_DeniedAsAWhole()
    {
        var id = "bun-" + Tag();
        var (_, patient2) = await env.Fhir.GetAsync("Patient/p02");
        var bundle = "{\"resourceType\":\"Bundle\",\"id\":\"" + id + "\",\"type\":\"collection\",\"entry\":[{\"resource\":" + patient2!.ToJsonString() + "},"
                     + "{\"resource\":" + Obs("inner", "p02") + "}]}";
        await env.Fhir.PutAsync($"Bundle/{id}", bundle);
        var token = await AllButPatient2Async();
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Bundle/{id}", token));
        using var search = await Client.GetWithTokenAsync($"Bundle?_id={id}", token);
        Assert.DoesNotContain("inner", await search.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Bundle/{id}", await env.TokenAsync("[" + Permission("*") + "]")));
    }

    [Fact]
    public async Task Control_StoredBundleOfTheTokensOwnPatient_Served()
    {
        var id = "bun-" + Tag();
        await env.Fhir.PutAsync($"Bundle/{id}", "{\"resourceType\":\"Bundle\",\"id\":\"" + id + "\",\"type\":\"collection\",\"entry\":[{\"resource\":" + Obs("inner", "p01") + "}]}");
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Bundle/{id}", await env.TokenAsync("[" + Permission("10001") + "]")));
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Bundle/{id}", await env.TokenAsync("[" + Permission("10003") + "]")));
    }

    [Fact]
    public async Task ContainedResourceOfAnotherPatient_DeniedInReadsAndSearches()
    {
        var id = "ctn-" + Tag();
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p01", extra: ",\"contained\":[" + Obs("c1", "p02") + "]"));
        var token = await env.TokenAsync("[" + Permission("10001") + "]");
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Observation/{id}", token));
        using var search = await Client.GetWithTokenAsync($"Observation?subject=Patient/p01&_count=200", token);
        Assert.DoesNotContain((await search.JsonAsync()).EntryIds(), i => i == id);
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Observation/{id}", await env.TokenAsync("[" + Permission("10001") + "," + Permission("10002") + "]")));
    }

    [Fact]
    public async Task NResourceContainingAnRResource_NeedsR()
    {
        var id = "ctn-" + Tag();
        await env.Fhir.PutAsync($"Observation/{id}", Obs(id, "p01", "N", ",\"contained\":[" + Obs("c1", "p01", "R") + "]"));
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Observation/{id}", await env.TokenAsync("[" + Permission("10001", labels: Labels("N")) + "]")));
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Observation/{id}", await env.TokenAsync("[" + Permission("10001", labels: Labels("R")) + "]")));
    }

    [Fact]
    public async Task Write_SmugglingAnotherPatientsDataIntoContained_403_NothingCreated()
    {
        var marker = "smuggle-" + Tag();
        var token = await env.TokenAsync("[" + Permission("10001", action: "*") + "]");
        var body = Obs("x", "p01", extra: ",\"contained\":[" + Obs("c1", "p02") + "]").Replace("\"embedded\"", "\"" + marker + "\"", StringComparison.Ordinal);
        using var response = await Client.SendAsync("POST", "Observation", token, body);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (_, found) = await env.Fhir.GetAsync($"Observation?code:text={marker}");
        Assert.Null(found!["entry"]);
    }

    private async Task<string> BinaryAsync(string? securityContext)
    {
        var id = "bin-" + Tag();
        await env.Fhir.PutAsync($"Binary/{id}", "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"text/plain\",\"data\":\"ZGlzY2hhcmdlIGxldHRlcg==\""
            + (securityContext is null ? "" : ",\"securityContext\":{\"reference\":\"" + securityContext + "\"}") + "}");
        return id;
    }

    private async Task<string> DocumentReferenceAsync(string patient)
    {
        var id = "doc-" + Tag();
        await env.Fhir.PutAsync($"DocumentReference/{id}", DocumentReference(id, patient));
        return id;
    }

    private static string DocumentReference(string id, string patient)
        => "{\"resourceType\":\"DocumentReference\",\"id\":\"" + id + "\"," + Label("N") + ",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
           + "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\"}}]}";

    [Fact]
    public async Task Binary_SecurityContextIsAPatient_JudgedForThatPatient()
    {
        var id = await BinaryAsync("Patient/p02");
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", await AllButPatient2Async()));
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("10001") + "]")));
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("10002") + "]")));
    }

    [Fact]
    public async Task Binary_SecurityContextIsADocument_JudgedByTheDocumentsPatient_AtOnceAfterItMoves()
    {
        var document = await DocumentReferenceAsync("p01");
        var id = await BinaryAsync("DocumentReference/" + document);
        var patient1 = await env.TokenAsync("[" + Permission("10001") + "]");
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Binary/{id}", patient1)); // a Binary of its own patient
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("10002") + "]")));

        // The document moves to p02 through Hearth: the Binary follows at once (the context grain forgets).
        var writer = await env.TokenAsync("[" + Permission("*", action: "*") + "]");
        using (var move = await Client.SendAsync("PUT", $"DocumentReference/{document}", writer, DocumentReference(document, "p02")))
        {
            Assert.Equal(HttpStatusCode.OK, move.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", patient1));
    }

    [Fact]
    public async Task Binary_WithoutSecurityContext_NeedsAnyPatient()
    {
        var id = await BinaryAsync(null);
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("10001") + "]")));
        Assert.Equal(HttpStatusCode.OK, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("*") + "]")));
    }

    [Fact]
    public async Task Binary_SecurityContextThatDoesNotExist_Denied()
    {
        var id = await BinaryAsync("DocumentReference/missing-" + Tag());
        Assert.Equal(HttpStatusCode.Forbidden, await ReadAsync($"Binary/{id}", await env.TokenAsync("[" + Permission("*") + "]")));
    }
}
