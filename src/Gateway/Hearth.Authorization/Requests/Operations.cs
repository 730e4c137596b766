namespace Hearth.Authorization.Requests;

/// <summary>How an operation is judged: by what it reads and writes.</summary>
public enum OperationKind
{
    /// <summary>Only reads: forwarded, and its answer judged like a search's (every resource in it; a Bundle redacted).</summary>
    Reads,

    /// <summary><c>$meta</c>: an instance's meta needs <c>read</c> of the stored resource (the answer holds no resource to judge); a type's or the system's, every resource of the type (or of every type) readable.</summary>
    MetaRead,

    /// <summary><c>$meta-add</c>, <c>$meta-delete</c>: an update of the stored version (<c>read</c> and <c>update</c>), and of the result (<c>update</c>): adding a label is writing it, removing one needs the right to that label.</summary>
    MetaWrite,

    /// <summary><c>$validate</c>: judged as the write it describes (its <c>mode</c>: create, update, delete; profile as create), though nothing is written.</summary>
    Validate,

    /// <summary><c>$graphql</c>: can reach any type; only a token that reads every resource of every type.</summary>
    GraphQL,

    /// <summary><c>$export</c>: the Bulk Data kick-off (a POST's Parameters read as the GET's query).</summary>
    Export,
}

/// <summary>The levels an operation is invoked at.</summary>
[Flags]
public enum OperationLevels
{
    System = 1,
    Type = 2,
    Instance = 4,
    All = System | Type | Instance,
}

/// <summary>One row of <see cref="Operations.Table"/>: an operation, where it may be invoked (<paramref name="Types"/> null: any type), whether by GET, and how it is judged.</summary>
public sealed record OperationRule(string Name, OperationKind Kind, OperationLevels Levels, IReadOnlyList<string>? Types, bool ByGet, string Needs);

/// <summary>
/// The operations Hearth judges, at the levels and on the types FHIR R4 defines them, each with
/// what it reads and writes and what it needs. An operation not in the table is refused (403,
/// nothing forwarded) unless HEARTH_ALLOWED_OPERATIONS adds it; an added one may only read: it is
/// judged by its answer, at any level.
/// </summary>
public static class Operations
{
    private const string Search = "search (read) of every resource it answers; the answer judged like a search's";
    private const string Terminology = "no patient data: the answer judged like any answer";

    public static IReadOnlyList<OperationRule> Table { get; } =
    [
        new("everything", OperationKind.Reads, OperationLevels.Type | OperationLevels.Instance, ["Patient", "Encounter"], true, Search),
        new("lastn", OperationKind.Reads, OperationLevels.Type, ["Observation"], true, Search),
        new("expand", OperationKind.Reads, OperationLevels.Type | OperationLevels.Instance, ["ValueSet"], true, Terminology),
        new("lookup", OperationKind.Reads, OperationLevels.Type, ["CodeSystem"], true, Terminology),
        new("validate-code", OperationKind.Reads, OperationLevels.Type | OperationLevels.Instance, ["ValueSet", "CodeSystem"], true, Terminology),
        new("subsumes", OperationKind.Reads, OperationLevels.Type | OperationLevels.Instance, ["CodeSystem"], true, Terminology),
        new("translate", OperationKind.Reads, OperationLevels.Type | OperationLevels.Instance, ["ConceptMap"], true, Terminology),
        new("meta", OperationKind.MetaRead, OperationLevels.All, null, true,
            "instance: read of the stored resource; type or system: read of every resource of the type (or of every type)"),
        new("meta-add", OperationKind.MetaWrite, OperationLevels.Instance, null, false,
            "read and update of the stored resource, update of the result (labels added)"),
        new("meta-delete", OperationKind.MetaWrite, OperationLevels.Instance, null, false,
            "read and update of the stored resource (its labels included), update of the result"),
        new("validate", OperationKind.Validate, OperationLevels.Type | OperationLevels.Instance, null, false,
            "the write it describes (mode create or profile: create of the resource; update: update of the resource and the stored one; delete: delete of the stored one); nothing is written"),
        new("graphql", OperationKind.GraphQL, OperationLevels.System | OperationLevels.Instance, null, true, "read of every resource of every type (no deny)"),
        new("export", OperationKind.Export, OperationLevels.All, null, true, "bulk-export (see Bulk Data export)"),
    ];

    private static readonly Dictionary<string, OperationRule> ByName = Table.ToDictionary(r => r.Name, StringComparer.Ordinal);

    /// <summary>The rule of an operation invoked on <paramref name="type"/> (null: the system) and <paramref name="id"/> (null: no instance); null with a refusal when Hearth does not judge it there.</summary>
    /// <param name="added">HEARTH_ALLOWED_OPERATIONS: operations (without '$') that only read, judged by their answer.</param>
    public static OperationRule? Find(string name, string? type, string? id, bool byPost, IReadOnlySet<string>? added, out Classification? refusal)
    {
        refusal = null;
        if (!ByName.TryGetValue(name, out var rule))
        {
            if (added is null || !added.Contains(name))
            {
                refusal = Classification.Refuse(403, "not-supported",
                    $"Hearth does not judge the operation ${name}, so it is not forwarded (HEARTH_ALLOWED_OPERATIONS adds operations that only read).");
                return null;
            }

            return new OperationRule(name, OperationKind.Reads, OperationLevels.All, null, true, "added by HEARTH_ALLOWED_OPERATIONS: only reads, judged by its answer");
        }

        if (rule.Kind == OperationKind.Export)
        {
            refusal = Classification.Refuse(400, "not-supported", "A bulk export is started at [base]/$export, Patient/$export or Group/[id]/$export.");
            return null;
        }

        var level = id is not null ? OperationLevels.Instance : type is not null ? OperationLevels.Type : OperationLevels.System;
        if (!rule.Levels.HasFlag(level) || (type is not null && rule.Types is { } types && !types.Contains(type)))
        {
            refusal = Classification.Refuse(400, "not-supported", $"The operation ${name} is not defined here (see the operations table in Hearth's README).");
            return null;
        }

        if (!byPost && !rule.ByGet)
        {
            refusal = Classification.Refuse(400, "not-supported", $"The operation ${name} changes or checks data: invoke it by POST.");
            return null;
        }

        return rule;
    }
}
