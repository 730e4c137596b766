using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using static Hearth.Authorization.Policies.ConsentDirective;

namespace Hearth.Authorization.Policies;

/// <summary>One rule of a <see cref="ConsentDirective"/>: its type, its conditions (each list: any of its items), and its exceptions.</summary>
internal sealed class ConsentProvision
{
    private ConsentProvision(string? type, JsonObject node, IReadOnlyList<ConsentProvision> nested)
    {
        Type = type;
        Node = node;
        Nested = nested;
    }

    public string? Type { get; }

    public JsonObject Node { get; }

    public IReadOnlyList<ConsentProvision> Nested { get; }

    public static ConsentProvision Empty { get; } = new(null, new JsonObject(), []);

    public static ConsentProvision Read(JsonObject node)
        => new(Text(node, "type"), node, Items(node, "provision").Select(Read).ToList());

    public bool Matches(Subject subject)
    {
        var node = Node;
        return InPeriod(node["period"] as JsonObject, subject.Now)
            && Any(node, "actor", a => Actor(a, subject.Requester))
            && Any(node, "purpose", p => Text(p, "system") is null or Hearth.Authorization.Tokens.TokenClaims.ActReason && Text(p, "code") is { } code && subject.Requester.Has(code))
            && Any(node, "class", c => Text(c, "code") == subject.Facts.ResourceType)
            && Any(node, "code", c => Codings(c).Any(code => Codings(subject.Resource?["code"] as JsonObject).Contains(code)))
            && Any(node, "securityLabel", l => Labels(subject).Contains((Text(l, "system"), Text(l, "code"))))
            && Any(node, "data", d => (d["reference"] as JsonObject) is { } reference && Text(reference, "reference") == Self(subject))
            && (node["dataPeriod"] is not JsonObject dataPeriod || (subject.ClinicalDate is { } date ? InPeriod(dataPeriod, date) : Type == "deny")); // no date: a deny still holds
    }

    /// <summary>The rule's decision where it applies: its own type, unless matching exceptions say otherwise (a deny among them wins).</summary>
    public ConsentDecision Decide(Subject subject)
    {
        var own = Type == "deny" ? ConsentOutcome.Deny : ConsentOutcome.Permit;
        var exceptions = Nested.Where(n => n.Matches(subject)).Select(n => (Rule: n, Decision: n.Decide(subject))).ToList();
        if (exceptions.Count == 0)
        {
            return new ConsentDecision(own, false);
        }

        if (exceptions.Any(e => e.Decision.Outcome == ConsentOutcome.Deny))
        {
            return new ConsentDecision(ConsentOutcome.Deny, false);
        }

        // A permit that overrides this deny for purpose BTG breaks the glass.
        var brokeTheGlass = exceptions.Any(e => e.Decision.BrokeTheGlass
            || (own == ConsentOutcome.Deny && Items(e.Rule.Node, "purpose").Any(p => Text(p, "code") == ConsentRequester.BreakGlassPurpose)));
        return new ConsentDecision(ConsentOutcome.Permit, brokeTheGlass);
    }

    private static bool Any(JsonObject node, string name, Func<JsonObject, bool> matches)
        => node[name] is not JsonArray items || items.Count == 0 || items.OfType<JsonObject>().Any(matches);

    private static bool Actor(JsonObject actor, ConsentRequester requester)
    {
        if (actor["reference"] is not JsonObject reference)
        {
            return false;
        }

        if (Text(reference, "reference") is { } target && (SameResource(target, requester.FhirUser) || SameResource(target, requester.Organization)))
        {
            return true;
        }

        return reference["identifier"] is JsonObject identifier && Text(identifier, "value") is { } value
            && (value == requester.ClientId || value == requester.Organization);
    }

    /// <summary>Whether two references name the same resource (one may be absolute: it then ends with the other).</summary>
    private static bool SameResource(string target, string? claimed)
        => claimed is { Length: > 0 } && (target == claimed || claimed.EndsWith("/" + target, StringComparison.Ordinal) || target.EndsWith("/" + claimed, StringComparison.Ordinal));

    private static HashSet<(string?, string?)> Codings(JsonObject? concept)
        => (concept?["coding"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (Text(c, "system"), Text(c, "code"))).ToHashSet();

    private static HashSet<(string?, string?)> Labels(Subject subject)
        => subject.Resource?["meta"] is JsonObject meta
            ? (meta["security"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (Text(c, "system"), Text(c, "code"))).ToHashSet()
            : subject.Facts.Labels.Select(l => (l.System, l.Code)).ToHashSet();

    private static string? Self(Subject subject)
        => subject.Resource is { } resource && Text(resource, "id") is { } id ? subject.Facts.ResourceType + "/" + id : null;
}
