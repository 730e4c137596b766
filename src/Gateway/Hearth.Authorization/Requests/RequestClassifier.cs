using System.Text.RegularExpressions;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Requests;

/// <summary>
/// Classifies a request by method and raw path (relative to the gateway's FHIR base) before
/// anything is forwarded. What cannot be classified is refused: Hearth never forwards blindly.
/// </summary>
public static partial class RequestClassifier
{
    [GeneratedRegex("^\\$[A-Za-z][A-Za-z0-9\\-_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex OperationPattern();

    /// <summary>Export ids Hearth hands out: 128 random bits, base64url.</summary>
    [GeneratedRegex("^[A-Za-z0-9_-]{22}$", RegexOptions.CultureInvariant)]
    public static partial Regex ExportIdPattern();

    /// <summary>Where Hearth serves the status and files of the exports it started.</summary>
    public const string ExportPrefix = "/_hearth/export/";

    /// <param name="method">The HTTP method.</param>
    /// <param name="rawPath">The path as sent (still percent-encoded), without the gateway's base path; starts with '/'.</param>
    /// <param name="addedOperations">HEARTH_ALLOWED_OPERATIONS: operation names (without '$') that only read, judged by their answer, beside <see cref="Operations.Table"/>.</param>
    public static Classification Classify(string method, string rawPath, IReadOnlySet<string>? addedOperations = null)
    {
        var classification = ClassifyShape(method, rawPath);
        if (classification.Request is not { Operation: { } operation } request)
        {
            return classification;
        }

        var rule = Operations.Find(operation, request.ResourceType, request.Id, request.ByPost, addedOperations, out var refusal);
        return rule is null ? refusal! : Classification.Accept(request with { OperationRule = rule });
    }

    private static Classification ClassifyShape(string method, string rawPath)
    {
        if (!IsCanonical(rawPath))
        {
            return Classification.Refuse(400, "invalid",
                "The request path is not in canonical form (encoded characters, '.', '..', empty segments or a trailing slash are refused).");
        }

        var segments = Segments(rawPath);

        var upper = method.ToUpperInvariant();
        if (upper == "POST" && segments is ["_search"])
        {
            return Classification.Accept(new FhirRequest(FhirInteraction.SearchSystem, null, null) { FormSearch = true });
        }

        if (upper == "POST" && segments is [var searched, "_search"] && IsType(searched))
        {
            return Classification.Accept(new FhirRequest(FhirInteraction.SearchType, searched, null) { FormSearch = true });
        }

        // HEAD is classified as GET: Hearth asks the FHIR server with GET and answers without a body.
        if (upper is not ("GET" or "HEAD"))
        {
            return ClassifyWrite(upper, segments);
        }

        if (Special(upper, segments) is { } special)
        {
            return special;
        }

        return segments switch
        {
            [] => Read(FhirInteraction.SearchSystem, null, null),
            ["_history"] => Read(FhirInteraction.HistorySystem, null, null),
            [var op] when IsOperation(op) => Operation(null, null, op),
            [var type] when IsType(type) => Read(FhirInteraction.SearchType, type, null),
            [var type, "_history"] when IsType(type) => Read(FhirInteraction.HistoryType, type, null),
            [var type, var op] when IsType(type) && IsOperation(op) => Operation(type, null, op),
            [var type, var id] when IsType(type) && IsId(id) => Read(FhirInteraction.Read, type, id),
            [var type, var id, "_history"] when IsType(type) && IsId(id) => Read(FhirInteraction.HistoryInstance, type, id),
            [var type, var id, var op] when IsType(type) && IsId(id) && IsOperation(op) => Operation(type, id, op),
            [var type, var id, var other] when IsType(type) && IsId(id) && IsType(other) => Classification.Accept(new FhirRequest(FhirInteraction.SearchCompartment, other, id) { Compartment = type }),
            [var type, var id, "_history", var vid] when IsType(type) && IsId(id) && IsId(vid) => Read(FhirInteraction.VRead, type, id),
            _ => Classification.Refuse(400, "not-supported", "The request path is not a FHIR interaction Hearth recognises."),
        };
    }

    /// <summary>The reads that are not the REST API's own shape: metadata, the SMART configuration, bulk export and Hearth's export paths; null for any other.</summary>
    private static Classification? Special(string upper, string[] segments)
    {
        switch (segments)
        {
            case ["metadata"]:
                return Classification.Accept(new FhirRequest(FhirInteraction.Capabilities, "CapabilityStatement", null));
            case [".well-known", "smart-configuration"]:
                return Classification.Accept(new FhirRequest(FhirInteraction.SmartConfiguration, null, null));
            case [".well-known", "oauth-protected-resource"]:
                return Classification.Accept(new FhirRequest(FhirInteraction.ProtectedResourceMetadata, null, null));
            case ["$export"] or ["Patient", "$export"] or ["Group", _, "$export"] when upper != "GET":
                return Classification.Refuse(400, "not-supported", "A bulk export is started with GET.");
            case ["$export"] or ["Patient", "$export"]:
                return Classification.Accept(new FhirRequest(FhirInteraction.BulkExport, segments.Length == 2 ? "Patient" : null, null));
            case ["Group", var group, "$export"] when IsId(group):
                return Classification.Accept(new FhirRequest(FhirInteraction.BulkExport, "Group", group));
            case ["_hearth", "export", var job] when ExportIdPattern().IsMatch(job):
                return Classification.Accept(new FhirRequest(FhirInteraction.ExportStatus, null, job));
            case ["_hearth", "export", var job, "file", var n] when ExportIdPattern().IsMatch(job) && n.Length <= 4 && n.All(char.IsAsciiDigit):
                return Classification.Accept(new FhirRequest(FhirInteraction.ExportFile, null, job) { FileIndex = int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) });
            default:
                return null;
        }
    }

    private static Classification ClassifyWrite(string method, string[] segments) => (method, segments) switch
    {
        ("POST", []) => Classification.Accept(new FhirRequest(FhirInteraction.Batch, null, null)),
        ("DELETE", ["_hearth", "export", var job]) when ExportIdPattern().IsMatch(job) => Classification.Accept(new FhirRequest(FhirInteraction.ExportStatus, null, job)),
        ("POST", ["$export"] or ["Patient", "$export"]) => Classification.Accept(new FhirRequest(FhirInteraction.BulkExport, segments.Length == 2 ? "Patient" : null, null) { ByPost = true }),
        ("POST", ["Group", var group, "$export"]) when IsId(group) => Classification.Accept(new FhirRequest(FhirInteraction.BulkExport, "Group", group) { ByPost = true }),
        ("POST", [var op]) when IsOperation(op) => Operation(null, null, op, byPost: true),
        ("POST", [var type, var op]) when IsType(type) && IsOperation(op) => Operation(type, null, op, byPost: true),
        ("POST", [var type, var id, var op]) when IsType(type) && IsId(id) && IsOperation(op) => Operation(type, id, op, byPost: true),
        ("POST", [var type]) when IsType(type) => Write(FhirInteraction.Create, type, null),
        ("PUT", [var type, var id]) when IsType(type) && IsId(id) => Write(FhirInteraction.Update, type, id),
        ("PATCH", [var type, var id]) when IsType(type) && IsId(id) => Write(FhirInteraction.Patch, type, id),
        ("DELETE", [var type, var id]) when IsType(type) && IsId(id) => Write(FhirInteraction.Delete, type, id),
        ("PUT", [var type]) when IsType(type) => Conditional(FhirInteraction.Update, type),
        ("PATCH", [var type]) when IsType(type) => Conditional(FhirInteraction.Patch, type),
        ("DELETE", [var type]) when IsType(type) => Conditional(FhirInteraction.Delete, type),
        _ => Classification.Refuse(403, "not-supported",
            $"Hearth does not authorize this {method} request; reads, searches, history, operations, create, update, patch, delete (by id or by criteria), batch and transaction are served."),
    };

    private static Classification Write(FhirInteraction interaction, string type, string? id)
        => Classification.Accept(new FhirRequest(interaction, type, id));

    /// <summary>A write by search criteria (the query), resolved by Hearth before anything is forwarded.</summary>
    private static Classification Conditional(FhirInteraction interaction, string type)
        => Classification.Accept(new FhirRequest(interaction, type, null) { Conditional = true });

    private static Classification Operation(string? type, string? id, string op, bool byPost = false)
        => Classification.Accept(new FhirRequest(FhirInteraction.Operation, type, id) { Operation = op[1..], ByPost = byPost });

    private static Classification Read(FhirInteraction interaction, string? type, string? id)
        => Classification.Accept(new FhirRequest(interaction, type, id));

    /// <summary>The path's segments (it is canonical: starts with '/', no empty segment), without an intermediate substring.</summary>
    private static string[] Segments(string rawPath)
    {
        if (rawPath.Length == 1)
        {
            return [];
        }

        var path = rawPath.AsSpan(1);
        var segments = new string[path.Count('/') + 1];
        var i = 0;
        foreach (var range in path.Split('/'))
        {
            segments[i++] = path[range].ToString();
        }

        return segments;
    }

    private static bool IsType(string segment) => FhirModel.R4.IsResourceType(segment);

    private static bool IsId(string segment) => PatientReference.IsValidId(segment) && segment is not ("." or "..");

    private static bool IsOperation(string segment) => OperationPattern().IsMatch(segment);

    /// <summary>
    /// Only plain paths pass: no percent-encoding (FHIR types, ids and operation names never need
    /// it), no backslash, no '.' or '..' segments, no empty segment, no trailing slash, no ';'.
    /// </summary>
    private static bool IsCanonical(string rawPath)
    {
        if (rawPath.Length == 0 || rawPath[0] != '/')
        {
            return false;
        }

        if (rawPath == "/")
        {
            return true;
        }

        foreach (var c in rawPath)
        {
            if (c is '%' or '\\' or ';' or '?' or '#' || char.IsControl(c) || char.IsWhiteSpace(c) || c > '~')
            {
                return false;
            }
        }

        foreach (var range in rawPath.AsSpan(1).Split('/'))
        {
            var segment = rawPath.AsSpan(1)[range];
            if (segment.IsEmpty || segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }
}
