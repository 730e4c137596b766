using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hearth.Gateway.FunctionalTests.Infrastructure;
using static Hearth.Gateway.FunctionalTests.Infrastructure.HearthEnvironment;

namespace Hearth.Gateway.FunctionalTests;

/// <summary>
/// A patch is evaluated only on what the token may read and change: a JSON Patch <c>test</c> or a
/// FHIRPath filter on another patient's resource used to answer 403 when the guess was right and
/// 422 when it was wrong, a field oracle for any token. The stored version is now judged first,
/// so the answer is the same whatever is stored. Patient p02's family name is "Example02".
/// </summary>
[Collection(HearthCollection.Name)]
public class PatchOracleTests(HearthEnvironment env)
{
    private HttpClient Client => env.Gateway.Client;

    /// <summary>Everything on patient 10003, nothing on p02.</summary>
    private Task<string> NarrowTokenAsync() => env.TokenAsync("[" + Permission("10003", action: "*") + "]");

    private static string TestFamily(string guess) => "[{\"op\":\"test\",\"path\":\"/name/0/family\",\"value\":\"" + guess + "\"},{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"other\"}]";

    private static string FilterFamily(string prefix)
        => "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"replace\"},"
           + "{\"name\":\"path\",\"valueString\":\"Patient.where(name.family.startsWith('" + prefix + "')).gender\"},{\"name\":\"value\",\"valueCode\":\"other\"}]}]}";

    private async Task<(HttpStatusCode Status, string Body)> PatchAsync(string token, string body, string contentType)
    {
        using var response = await Client.SendAsync("PATCH", "Patient/p02", token, body, contentType);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/json-patch+json", "Example02", "Brown")]
    [InlineData("application/fhir+json", "E", "B")]
    public async Task Patch_OfAResourceTheTokenCannotTouch_SameAnswerWhateverIsStored(string contentType, string rightGuess, string wrongGuess)
    {
        var token = await NarrowTokenAsync();
        var patch = contentType == "application/json-patch+json" ? (Func<string, string>)TestFamily : FilterFamily;
        var right = await PatchAsync(token, patch(rightGuess), contentType);
        var wrong = await PatchAsync(token, patch(wrongGuess), contentType);
        Assert.Equal(HttpStatusCode.Forbidden, right.Status);
        Assert.Equal(right, wrong);
        var (_, stored) = await env.Fhir.GetAsync("Patient/p02");
        Assert.Equal("male", stored!["gender"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_OfPatchGuesses_EveryEntryAnsweredAlike()
    {
        var token = await NarrowTokenAsync();
        JsonObject Entry(string guess) => new()
        {
            ["resource"] = new JsonObject
            {
                ["resourceType"] = "Binary",
                ["contentType"] = "application/json-patch+json",
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(TestFamily(guess))),
            },
            ["request"] = new JsonObject { ["method"] = "PATCH", ["url"] = "Patient/p02" },
        };

        using var response = await Client.PostBundleAsync("batch", token, Entry("Brown"), Entry("Example02"), Entry("Smith"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = (await response.JsonAsync())["entry"]!.AsArray();
        Assert.All(entries, e => Assert.Equal("403 Forbidden", e!["response"]!["status"]!.GetValue<string>()));
        Assert.Single(entries.Select(e => e!["response"]!.ToJsonString()).Distinct());
    }

    [Fact]
    public async Task Patch_CopiesThatDoubleAnotherPatientsResource_RefusedBeforeAnyOperationRuns()
    {
        var token = await NarrowTokenAsync();
        var bomb = "[" + string.Join(",", Enumerable.Repeat("{\"op\":\"copy\",\"from\":\"/code\",\"path\":\"/code/coding/-\"}", 21)) + "]";
        using var response = await Client.SendAsync("PATCH", "Observation/obs-02-1", token, bomb, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // 403, not the 422 of a patch that was run
    }

    [Fact]
    public async Task Patch_CopiesThatDoubleTheTokensOwnResource_RefusedAtTheSizeLimit()
    {
        var id = "po-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", Observation(id, "p17"));
        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        var bomb = "[" + string.Join(",", Enumerable.Repeat("{\"op\":\"copy\",\"from\":\"/code\",\"path\":\"/code/coding/-\"}", 40)) + "]";
        using var response = await Client.SendAsync("PATCH", $"Observation/{id}", token, bomb, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("larger than", await response.AssertOutcomeAsync("processing"), StringComparison.Ordinal);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Single(stored!["code"]!["coding"]!.AsArray());
    }

    [Theory]
    [InlineData("8867-4", HttpStatusCode.OK, "changed")]
    [InlineData("0000-0", HttpStatusCode.UnprocessableEntity, "final")]
    public async Task Control_TheTokensOwnPatchWithATest_Works(string testedCode, HttpStatusCode expected, string storedStatus)
    {
        var id = "po-" + Guid.NewGuid().ToString("N")[..10];
        await env.Fhir.PutAsync($"Observation/{id}", Observation(id, "p17"));
        var token = await env.TokenAsync("[" + Permission("10017", action: "*") + "]");
        var patch = "[{\"op\":\"test\",\"path\":\"/code/coding/0/code\",\"value\":\"" + testedCode + "\"},{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"amended\"}]";
        using var response = await Client.SendAsync("PATCH", $"Observation/{id}", token, patch, "application/json-patch+json");
        Assert.Equal(expected, response.StatusCode);
        var (_, stored) = await env.Fhir.GetAsync($"Observation/{id}");
        Assert.Equal(storedStatus == "changed" ? "amended" : storedStatus, stored!["status"]!.GetValue<string>());
    }

    private static string Observation(string id, string patient)
        => "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"meta\":{\"security\":[{\"system\":\"" + Conf + "\",\"code\":\"N\"}]},\"status\":\"final\","
           + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
}
