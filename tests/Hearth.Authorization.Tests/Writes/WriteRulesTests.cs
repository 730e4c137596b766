using System.Text;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Writes;

namespace Hearth.Authorization.Tests.Writes;

/// <summary>
/// The write rules as tables, with the adjudicator: what a write needs judged (its body, what is
/// stored, the result of a patch) and what the token's grants make of it. No I/O: the stored
/// versions are given.
/// </summary>
public class WriteRulesTests
{
    private static readonly Hearth.Authorization.Configuration.RuleSettings Rules = TestSettings.Rules(("UNPROTECTED_RESOURCE_TYPES", "Organization"));
    private static readonly ResponseFilterParser Parser = new(Rules);

    private static readonly ResolvedReferences Resolved = TestResolution.Of(reference => reference switch
    {
        "Patient/p1" => new PatientIdentifier("urn:official:id", "10001"),
        "Patient/p2" => new PatientIdentifier("urn:official:id", "10002"),
        _ => null,
    });

    private static string Obs(string patient, string id = "o1") =>
        "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"final\",\"code\":{\"text\":\"x\"}}";

    private const string Patient1 = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:official:id\",\"value\":\"10001\"}]}";

    private static string Grant(string patient, string action, string type = "Observation") => Hearth.Testing.Permissions.For(patient, type, action);

    private static string Grants(params string[] grants) => "[" + string.Join(",", grants) + "]";

    public static TheoryData<string, string, string?, string?, string?, string, int> Writes => new()
    {
        // name, method+path, body, stored, previous (before a delete), grants, expected status (200: permitted)
        { "create for the patient", "POST /Observation", Obs("p1"), null, null, Grants(Grant("10001", "create")), 200 },
        { "create needs create, not update", "POST /Observation", Obs("p1"), null, null, Grants(Grant("10001", "update")), 403 },
        { "create for another patient", "POST /Observation", Obs("p2"), null, null, Grants(Grant("10001", "create")), 403 },
        { "create of another type than the URL", "POST /Condition", Obs("p1"), null, null, Grants(Grant("10001", "create", "*")), 400 },
        { "update within the patient", "PUT /Observation/o1", Obs("p1"), Obs("p1"), null, Grants(Grant("10001", "update")), 200 },
        { "update moving the resource to another patient", "PUT /Observation/o1", Obs("p2"), Obs("p1"), null, Grants(Grant("10001", "update")), 403 },
        { "update taking a resource from another patient", "PUT /Observation/o1", Obs("p1"), Obs("p2"), null, Grants(Grant("10001", "update")), 403 },
        { "update moving between two granted patients", "PUT /Observation/o1", Obs("p2"), Obs("p1"), null, Grants(Grant("10001", "update"), Grant("10002", "update")), 200 },
        { "update whose id differs from the URL", "PUT /Observation/o2", Obs("p1"), Obs("p1", "o2"), null, Grants(Grant("10001", "update")), 400 },
        { "update that creates needs create", "PUT /Observation/o1", Obs("p1"), null, null, Grants(Grant("10001", "create")), 200 },
        { "update that creates, with update only", "PUT /Observation/o1", Obs("p1"), null, null, Grants(Grant("10001", "update")), 403 },
        { "update that revives another patient's deleted resource", "PUT /Observation/o1", Obs("p1"), null, Obs("p2"), Grants(Grant("10001", "create"), Grant("10001", "update")), 403 },
        { "update that revives the patient's own deleted resource", "PUT /Observation/o1", Obs("p1"), null, Obs("p1"), Grants(Grant("10001", "create"), Grant("10001", "update")), 200 },
        { "update that creates a Patient needs create for any patient", "PUT /Patient/p1", Patient1, null, null, Grants(Grant("10001", "create", "Patient")), 403 },
        { "... with it", "PUT /Patient/p1", Patient1, null, null, Grants(Hearth.Testing.Permissions.For("*", "Patient", "create")), 200 },
        { "a Patient without a designated identifier cannot be judged", "PUT /Patient/p1", "{\"resourceType\":\"Patient\",\"id\":\"p1\"}", null, null, Grants(Hearth.Testing.Permissions.For("*", "Patient", "create")), 403 },
        { "patch needs read and update of what is stored", "PATCH /Observation/o1", null, Obs("p1"), null, Grants(Grant("10001", "update")), 403 },
        { "... with both", "PATCH /Observation/o1", null, Obs("p1"), null, Grants(Grant("10001", "update"), Grant("10001", "read")), 200 },
        { "patch of nothing", "PATCH /Observation/o1", null, null, null, Grants(Grant("10001", "update"), Grant("10001", "read")), 404 },
        { "delete of the patient's resource", "DELETE /Observation/o1", null, Obs("p1"), null, Grants(Grant("10001", "delete")), 200 },
        { "delete of another patient's resource", "DELETE /Observation/o1", null, Obs("p2"), null, Grants(Grant("10001", "delete")), 403 },
        { "delete of nothing", "DELETE /Observation/o1", null, null, null, Grants(Grant("10001", "delete")), 404 },
        { "unprotected type, any body of it", "POST /Organization", "{\"resourceType\":\"Organization\"}", null, null, Grants(), 200 },
        { "unprotected type in the URL, a protected body", "POST /Organization", Obs("p1"), null, null, Grants(), 400 },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public void Write(string name, string line, string? body, string? stored, string? previous, string grants, int expected)
    {
        var parts = line.Split(' ');
        var request = RequestClassifier.Classify(parts[0], parts[1]).Request!;
        var bodyFacts = Parser.Facts(body);
        var refusal = bodyFacts is null ? null : WriteRules.CheckBody(request, bodyFacts, Parser.Id(body));
        var status = refusal?.Status;
        if (status is null)
        {
            var (checks, storedRefusal) = WriteRules.StoredChecks(request, bodyFacts, Parser.Facts(stored), Parser.Facts(previous));
            status = storedRefusal?.Status
                ?? (new Adjudicator(Rules).JudgeAll(checks, Resolved, PermissionSet.Parse(grants)).IsPermitted ? 200 : 403);
        }

        Assert.True(expected == status, $"{name}: expected {expected}, got {status}");
    }

    public static TheoryData<string, string, string?, int> PatchResults => new()
    {
        { "the same resource, still the patient's", "PATCH /Observation/o1", Obs("p1"), 200 },
        { "moved to another patient", "PATCH /Observation/o1", Obs("p2"), 403 },
        { "its id changed", "PATCH /Observation/o1", Obs("p1", "o2"), 422 },
        { "its type changed", "PATCH /Observation/o1", "{\"resourceType\":\"Condition\",\"id\":\"o1\",\"subject\":{\"reference\":\"Patient/p1\"}}", 422 },
        { "nothing left", "PATCH /Observation/o1", null, 422 },
    };

    [Theory]
    [MemberData(nameof(PatchResults))]
    public void PatchResult(string name, string line, string? result, int expected)
    {
        var parts = line.Split(' ');
        var request = RequestClassifier.Classify(parts[0], parts[1]).Request!;
        var (checks, refusal) = WriteRules.PatchResultChecks(request, Parser.Facts(result), Parser.Id(result));
        var status = refusal?.Status
            ?? (new Adjudicator(Rules).JudgeAll(checks, Resolved, PermissionSet.Parse(Grants(Grant("10001", "update")))).IsPermitted ? 200 : 403);
        Assert.True(expected == status, $"{name}: expected {expected}, got {status}");
    }

    public static TheoryData<string, string, bool> CouldEverPermitRows => new()
    {
        // what a batch refuses without reading anything
        { "POST /Observation", Grants(Grant("10001", "create")), true },
        { "POST /Observation", Grants(Grant("10001", "read")), false },
        { "POST /Condition", Grants(Grant("10001", "create")), false },
        { "PUT /Observation/o1", Grants(Grant("10001", "create")), true }, // an update may create
        { "PUT /Observation/o1", Grants(Grant("10001", "update")), true },
        { "PATCH /Observation/o1", Grants(Grant("10001", "update")), false }, // a patch reads too
        { "PATCH /Observation/o1", Grants(Grant("10001", "update"), Grant("10001", "read")), true },
        { "DELETE /Observation/o1", Grants(Grant("10001", "update")), false },
        { "DELETE /Organization/x", Grants(), true }, // unprotected
    };

    [Theory]
    [MemberData(nameof(CouldEverPermitRows))]
    public void CouldEverPermit(string line, string grants, bool expected)
    {
        var parts = line.Split(' ');
        var request = RequestClassifier.Classify(parts[0], parts[1]).Request!;
        Assert.Equal(expected, WriteRules.CouldEverPermit(request, PermissionSet.Parse(grants), Rules.UnprotectedResourceTypes));
    }

    [Theory]
    [InlineData(new string[0], "3", true)]
    [InlineData(new[] { "W/\"3\"" }, "3", true)]
    [InlineData(new[] { "\"3\"" }, "3", true)]
    [InlineData(new[] { "W/\"2\"" }, "3", false)]
    [InlineData(new[] { "W/\"2\"", "W/\"3\"" }, "3", true)]
    public void IfMatch(string[] ifMatch, string stored, bool passes)
        => Assert.Equal(passes, WriteRules.CheckIfMatch(ifMatch, stored) is null);

    [Theory]
    [InlineData("GET", "/Organization/x", true)]
    [InlineData("GET", "/Organization", true)]
    [InlineData("GET", "/Organization/x/_history", true)]
    [InlineData("POST", "/Organization", true)]
    [InlineData("PUT", "/Organization/x", true)]
    [InlineData("PATCH", "/Organization/x", true)]
    [InlineData("DELETE", "/Organization/x", true)]
    [InlineData("GET", "/Observation/x", false)]
    [InlineData("GET", "/Organization/x/$custom", false)] // an operation
    [InlineData("GET", "/_history", false)] // system-level
    [InlineData("GET", "/Patient/p1/Organization", false)] // a compartment search
    [InlineData("POST", "/", false)] // a batch
    public void UnprotectedTypes_NeedNoToken(string method, string path, bool expected)
    {
        var request = RequestClassifier.Classify(method, path, new HashSet<string> { "custom" }).Request!;
        Assert.Equal(expected, UnprotectedTypes.NeedsNoToken(request, Rules.UnprotectedResourceTypes));
    }

    /// <summary>Facts and id of a test resource (null stays null).</summary>
    private sealed class ResponseFilterParser(Hearth.Authorization.Configuration.RuleSettings rules)
    {
        private readonly Hearth.Authorization.Responses.ResponseFilter _filter = new(rules);

        public ResourceFacts? Facts(string? json) => json is null ? null : _filter.Parse(Encoding.UTF8.GetBytes(json), judgeEntries: false)!.RootFacts;

        public string? Id(string? json) => json is null ? null : System.Text.Json.Nodes.JsonNode.Parse(json)!["id"]?.GetValue<string>();
    }
}
