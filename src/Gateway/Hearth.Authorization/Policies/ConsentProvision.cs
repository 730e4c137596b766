using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using static Hearth.Authorization.Policies.ConsentDirective;

namespace Hearth.Authorization.Policies;

/// <summary>One rule of a <see cref="ConsentDirective"/>: its type, its conditions (each list: any of its items), and its exceptions.</summary>
internal sealed class ConsentProvision
{
    // Each condition's items, read once (null: the condition is absent); a judgement then looks up nothing by name.
    private readonly JsonObject? _period;
    private readonly JsonObject? _dataPeriod;
    private readonly JsonObject[]? _actor;
    private readonly JsonObject[]? _purpose;
    private readonly HashSet<string>? _class;
    private readonly JsonObject[]? _code;
    private readonly JsonObject[]? _securityLabel;
    private readonly JsonObject[]? _data;

    private readonly ConsentProvision[] _nested;

    private ConsentProvision(string? type, JsonObject node, ConsentProvision[] nested)
    {
        Type = type;
        Node = node;
        _nested = nested;
        _period = node["period"] as JsonObject;
        _dataPeriod = node["dataPeriod"] as JsonObject;
        _actor = Condition(node, "actor");
        _purpose = Condition(node, "purpose");
        _class = Condition(node, "class")?.Select(c => Text(c, "code") ?? "").ToHashSet(StringComparer.Ordinal);
        _code = Condition(node, "code");
        _securityLabel = Condition(node, "securityLabel");
        _data = Condition(node, "data");
    }

    /// <summary>A condition's items; null when it is absent or empty (no condition). An item that is not an object matches nothing.</summary>
    private static JsonObject[]? Condition(JsonObject node, string name)
        => node[name] is JsonArray { Count: > 0 } items ? items.Select(i => i as JsonObject ?? new JsonObject { ["unreadable"] = true }).ToArray() : null;

    public string? Type { get; }

    public JsonObject Node { get; }

    public static ConsentProvision Empty { get; } = new(null, new JsonObject(), []);

    public static ConsentProvision Read(JsonObject node)
        => new(Text(node, "type"), node, Items(node, "provision").Select(Read).ToArray());

    public bool Matches(Subject subject)
    {
        // The cheap conditions first: most provisions are told apart by the resource's type or by
        // who asks; no closure made for them (this runs for every resource of a patient with a Consent).
        return (_class is null || _class.Contains(subject.Facts.ResourceType))
            && InPeriod(_period, subject.Now)
            && ActorMatches(_actor, subject.Requester)
            && PurposeMatches(_purpose, subject.Requester)
            && ((_code is null && _securityLabel is null && _data is null && _dataPeriod is null) || MatchesTheResource(subject));
    }

    /// <summary>The conditions that look into the resource itself.</summary>
    private bool MatchesTheResource(Subject subject)
        => Any(_code, c => Codings(c).Any(code => Codings(subject.Resource?["code"] as JsonObject).Contains(code)))
           && Any(_securityLabel, l => Labels(subject).Contains((Text(l, "system"), Text(l, "code"))))
           && Any(_data, d => (d["reference"] as JsonObject) is { } reference && Text(reference, "reference") == Self(subject))
           && (_dataPeriod is null || (subject.ClinicalDate is { } date ? InPeriod(_dataPeriod, date) : Type == "deny")); // no date: a deny still holds

    private static bool ActorMatches(JsonObject[]? actors, ConsentRequester requester)
    {
        if (actors is null)
        {
            return true;
        }

        foreach (var actor in actors)
        {
            if (Actor(actor, requester))
            {
                return true;
            }
        }

        return false;
    }

    private static bool PurposeMatches(JsonObject[]? purposes, ConsentRequester requester)
    {
        if (purposes is null)
        {
            return true;
        }

        foreach (var purpose in purposes)
        {
            if (Text(purpose, "system") is null or Hearth.Authorization.Tokens.TokenClaims.ActReason && Text(purpose, "code") is { } code && requester.Has(code))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rule's decision where it applies: its own type, unless matching exceptions say otherwise (a deny among them wins).</summary>
    public ConsentDecision Decide(Subject subject)
    {
        var own = Type == "deny" ? ConsentOutcome.Deny : ConsentOutcome.Permit;
        var matched = false;
        var brokeTheGlass = false;
        foreach (var exception in _nested) // no enumerator made: this runs for every resource of a patient with a Consent
        {
            if (!exception.Matches(subject))
            {
                continue;
            }

            var decision = exception.Decide(subject);
            if (decision.Outcome == ConsentOutcome.Deny)
            {
                return new ConsentDecision(ConsentOutcome.Deny, false);
            }

            matched = true;

            // A permit that overrides this deny for purpose BTG breaks the glass.
            brokeTheGlass |= decision.BrokeTheGlass
                || (own == ConsentOutcome.Deny && (exception._purpose ?? []).Any(p => Text(p, "code") == ConsentRequester.BreakGlassPurpose));
        }

        return matched ? new ConsentDecision(ConsentOutcome.Permit, brokeTheGlass) : new ConsentDecision(own, false);
    }

    private static bool Any(JsonObject[]? items, Func<JsonObject, bool> matches)
    {
        if (items is null)
        {
            return true;
        }

        foreach (var item in items)
        {
            if (matches(item))
            {
                return true;
            }
        }

        return false;
    }

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
