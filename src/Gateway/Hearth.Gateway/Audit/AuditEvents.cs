using System.Text;
using System.Text.Json.Nodes;

namespace Hearth.Gateway.Audit;

/// <summary>
/// An audit record (<see cref="AuditRecords"/>) as a FHIR AuditEvent after IHE Basic Audit Log
/// Patterns (BALP): type rest, subtype the RESTful interaction, action, recorded, outcome (0 when
/// served, permit or redact; 4 denied or unauthenticated, and a request refused as invalid; 8 an
/// error), agents for the client (with its address) and the requesting user or client, source
/// this Hearth node, purposeOfEvent the token's purposes of use (v3-ActReason), entities for the
/// patient and for the resource or the query.
/// </summary>
internal static class AuditEvents
{
    private const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    private const string ObjectType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";

    public static JsonObject From(JsonObject record, string node)
    {
        var interaction = record["interaction"]?.GetValue<string>() ?? "unknown";
        var decision = record["decision"]?.GetValue<string>();
        var audit = new JsonObject
        {
            ["resourceType"] = "AuditEvent",
            ["type"] = Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"),
            ["subtype"] = new JsonArray(Coding("http://hl7.org/fhir/restful-interaction", RestfulInteraction(interaction), null)),
            ["action"] = Action(interaction),
            ["recorded"] = record["recorded"]?.GetValue<string>(),
            ["outcome"] = decision switch { "permit" or "redact" => "0", "error" => "8", _ => "4" },
            ["agent"] = Agents(record),
            ["source"] = new JsonObject { ["observer"] = new JsonObject { ["display"] = node }, ["type"] = new JsonArray(Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "3", "Web Server")) },
        };
        if (record["breakTheGlass"]?.GetValue<bool>() == true)
        {
            // An emergency access (its purposeOfEvent holds BTG): said in the outcome, for readers that look there.
            audit["outcomeDesc"] = "Break-the-glass: served for purpose of use BTG past a patient's Consent.";
        }
        else if (Description(record, decision) is { } description)
        {
            audit["outcomeDesc"] = description;
        }

        if (record["purposeOfUse"] is JsonArray purposes && purposes.Count > 0)
        {
            // BALP: the purposes of use the token asserted.
            audit["purposeOfEvent"] = new JsonArray(purposes.Select(p => (JsonNode)Concept(Hearth.Authorization.Tokens.TokenClaims.ActReason, p!.GetValue<string>(), null)).ToArray());
        }

        if (Entities(record) is { Count: > 0 } entities)
        {
            audit["entity"] = entities;
        }

        return audit;
    }

    private static string? Description(JsonObject record, string? decision)
    {
        var reason = decision == "redact" ? $"Served with {record["entriesRemoved"]} entries removed." : record["reason"]?.GetValue<string>();
        return record["policyReason"]?.GetValue<string>() is { } why && record["policy"]?.GetValue<string>() is { } policy
            ? $"{reason} (policy {policy}: {why})".TrimStart()
            : reason;
    }

    private static JsonArray Agents(JsonObject record)
    {
        var client = new JsonObject { ["type"] = Concept(Dicom, "110153", "Source Role ID"), ["requestor"] = false };
        if (record["clientId"]?.GetValue<string>() is { } clientId)
        {
            client["who"] = new JsonObject { ["identifier"] = new JsonObject { ["value"] = clientId } };
        }

        if (record["clientAddress"]?.GetValue<string>() is { } address)
        {
            client["network"] = new JsonObject { ["address"] = address, ["type"] = "2" };
        }

        var agents = new JsonArray(client);
        var user = new JsonObject { ["type"] = Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", "information recipient"), ["requestor"] = true };
        if (record["subject"]?.GetValue<string>() is { } subject)
        {
            user["who"] = new JsonObject { ["identifier"] = new JsonObject { ["value"] = subject } };
        }

        if (record["fhirUser"]?.GetValue<string>() is { } fhirUser)
        {
            var who = user["who"] as JsonObject ?? new JsonObject();
            who["reference"] = fhirUser; // the user's own FHIR resource, as the token names it
            user["who"] = who;
        }
        else if (record["token"]?.GetValue<string>() is { } token)
        {
            user["altId"] = "token " + token; // the hash prefix, when the token names no subject
        }
        else
        {
            user["name"] = "anonymous";
        }

        agents.Add(user);
        return agents;
    }

    private static JsonArray Entities(JsonObject record)
    {
        var entities = new JsonArray();
        foreach (var patient in record["patients"]?.AsArray() ?? [])
        {
            entities.Add(new JsonObject
            {
                ["what"] = new JsonObject { ["reference"] = patient!.GetValue<string>() },
                ["type"] = Coding(ObjectType, "1", "Person"),
                ["role"] = Coding(ObjectRole, "1", "Patient"),
            });
        }

        var type = record["resourceType"]?.GetValue<string>();
        var id = record["id"]?.GetValue<string>();
        if (type is not null && id is not null)
        {
            entities.Add(new JsonObject { ["what"] = new JsonObject { ["reference"] = $"{type}/{id}" }, ["type"] = Coding(ObjectType, "2", "System Object"), ["role"] = Coding(ObjectRole, "4", "Domain Resource") });
        }
        else if (record["parameters"] is JsonObject parameters)
        {
            var query = string.Join('&', parameters.SelectMany(p => p.Value!.AsArray().Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v!.GetValue<string>()))));
            entities.Add(new JsonObject
            {
                ["type"] = Coding(ObjectType, "2", "System Object"),
                ["role"] = Coding(ObjectRole, "24", "Query"),
                ["query"] = Convert.ToBase64String(Encoding.UTF8.GetBytes((type is null ? "" : type + "?") + query)),
            });
        }

        return entities;
    }

    /// <summary>The interaction's code in http://hl7.org/fhir/restful-interaction.</summary>
    private static string RestfulInteraction(string interaction) => interaction switch
    {
        "read" or "vread" or "update" or "patch" or "delete" or "create" or "search-type" or "search-system"
            or "history-instance" or "history-type" or "history-system" or "batch" or "operation" => interaction,
        "search-compartment" => "search-type",
        "capabilities" or "smart-configuration" or "protected-resource-metadata" => "capabilities",
        _ => "operation",
    };

    /// <summary>C, R, U, D or E (BALP: reads and searches R; an operation or batch E).</summary>
    private static string Action(string interaction) => interaction switch
    {
        "create" => "C",
        "update" or "patch" => "U",
        "delete" => "D",
        "read" or "vread" or "search-type" or "search-system" or "search-compartment" or "history-instance" or "history-type" or "history-system"
            or "capabilities" or "smart-configuration" or "protected-resource-metadata" => "R",
        _ => "E",
    };

    private static JsonObject Coding(string system, string code, string? display)
    {
        var coding = new JsonObject { ["system"] = system, ["code"] = code };
        if (display is not null)
        {
            coding["display"] = display;
        }

        return coding;
    }

    private static JsonObject Concept(string system, string code, string? display) => new() { ["coding"] = new JsonArray(Coding(system, code, display)) };
}
