using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using static Hearth.Authorization.Policies.ConsentDirective;

namespace Hearth.Authorization.Policies;

/// <summary>One rule of a <see cref="ConsentDirective"/>: its type, its conditions (each list: any of its items), and its exceptions.</summary>
internal sealed class ConsentProvision
{
    // Each condition read once into what it is compared by (null: the condition is absent), so a
    // judgement, run for every resource of a patient with a Consent, looks up nothing by name,
    // parses no date and makes no string: JSON values read from a parsed Consent are strings made
    // anew on each read.
    private readonly Period? _period;
    private readonly Period? _dataPeriod;
    private readonly (string? Target, string? Identifier)[]? _actor;
    private readonly string[]? _purpose; // the codes of v3-ActReason (or of no system): another system's never match
    private readonly bool _purposeBreaksTheGlass;
    private readonly HashSet<string>? _class;
    private readonly HashSet<(string?, string?)>? _code; // every coding of every concept: one that the resource's code has matches
    private readonly HashSet<(string?, string?)>? _securityLabel;
    private readonly HashSet<string>? _data;

    private readonly ConsentProvision[] _nested;

    private ConsentProvision(string? type, JsonObject node, ConsentProvision[] nested)
    {
        Type = type;
        _nested = nested;
        _period = Period.Of(node["period"] as JsonObject);
        _dataPeriod = Period.Of(node["dataPeriod"] as JsonObject);
        _actor = Condition(node, "actor")?.Select(ActorOf).ToArray();
        var purposes = Condition(node, "purpose");
        _purpose = purposes?.Where(p => Text(p, "system") is null or Hearth.Authorization.Tokens.TokenClaims.ActReason).Select(p => Text(p, "code")).OfType<string>().ToArray();
        _purposeBreaksTheGlass = purposes?.Any(p => Text(p, "code") == ConsentRequester.BreakGlassPurpose) == true;
        _class = Condition(node, "class")?.Select(c => Text(c, "code") ?? "").ToHashSet(StringComparer.Ordinal);
        _code = Condition(node, "code")?.SelectMany(c => Codings(c)).ToHashSet();
        _securityLabel = Condition(node, "securityLabel")?.Select(Coding).ToHashSet();
        _data = Condition(node, "data")?.Select(d => (d["reference"] as JsonObject) is { } reference ? Text(reference, "reference") : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A condition's items; null when it is absent or empty (no condition). An item that is not an object matches nothing.</summary>
    private static JsonObject[]? Condition(JsonObject node, string name)
        => node[name] is JsonArray { Count: > 0 } items ? items.Select(i => i as JsonObject ?? new JsonObject { ["unreadable"] = true }).ToArray() : null;

    /// <summary>An actor by its reference (the token's fhirUser or organization) and by its identifier's value (its client or organization); neither: it matches nobody.</summary>
    private static (string? Target, string? Identifier) ActorOf(JsonObject actor)
        => actor["reference"] is JsonObject reference
            ? (Text(reference, "reference"), reference["identifier"] is JsonObject identifier ? Text(identifier, "value") : null)
            : (null, null);

    public string? Type { get; }

    public static ConsentProvision Empty { get; } = new(null, new JsonObject(), []);

    public static ConsentProvision Read(JsonObject node)
        => new(Text(node, "type"), node, Items(node, "provision").Select(Read).ToArray());

    public bool Matches(in Subject subject)
    {
        // The cheap conditions first: most provisions are told apart by the resource's type or by
        // who asks; no closure made for them (this runs for every resource of a patient with a Consent).
        return (_class is null || _class.Contains(subject.Facts.ResourceType))
            && Period.Contains(_period, subject.Now)
            && ActorMatches(_actor, subject.Requester)
            && PurposeMatches(_purpose, subject.Requester)
            && ((_code is null && _securityLabel is null && _data is null && _dataPeriod is null) || MatchesTheResource(subject));
    }

    /// <summary>The conditions that look into the resource itself.</summary>
    private bool MatchesTheResource(in Subject subject)
        => (_code is null || _code.Overlaps(Codings(subject.Resource?["code"] as JsonObject)))
           && (_securityLabel is null || _securityLabel.Overlaps(Labels(subject)))
           && (_data is null || (Self(subject) is { } self && _data.Contains(self)))
           && (_dataPeriod is null || (subject.ClinicalDate is { } date ? Period.Contains(_dataPeriod, date) : Type == "deny")); // no date: a deny still holds

    private static bool ActorMatches((string? Target, string? Identifier)[]? actors, ConsentRequester requester)
    {
        if (actors is null)
        {
            return true;
        }

        foreach (var (target, identifier) in actors)
        {
            if ((target is not null && (SameResource(target, requester.FhirUser) || SameResource(target, requester.Organization)))
                || (identifier is not null && (identifier == requester.ClientId || identifier == requester.Organization)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool PurposeMatches(string[]? purposes, ConsentRequester requester)
    {
        if (purposes is null)
        {
            return true;
        }

        foreach (var code in purposes)
        {
            if (requester.Has(code))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rule's decision where it applies: its own type, unless matching exceptions say otherwise (a deny among them wins).</summary>
    public ConsentDecision Decide(in Subject subject)
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
                || (own == ConsentOutcome.Deny && exception._purposeBreaksTheGlass);
        }

        return matched ? new ConsentDecision(ConsentOutcome.Permit, brokeTheGlass) : new ConsentDecision(own, false);
    }

    /// <summary>Whether two references name the same resource (one may be absolute: it then ends with the other).</summary>
    private static bool SameResource(string target, string? claimed)
        => claimed is { Length: > 0 } && (target == claimed || claimed.EndsWith("/" + target, StringComparison.Ordinal) || target.EndsWith("/" + claimed, StringComparison.Ordinal));

    /// <summary>A Coding (or a label) as what it is compared by: its system and code.</summary>
    private static (string?, string?) Coding(JsonObject coding) => (Text(coding, "system"), Text(coding, "code"));

    private static HashSet<(string?, string?)> Codings(JsonObject? concept)
        => (concept?["coding"] as JsonArray ?? []).OfType<JsonObject>().Select(Coding).ToHashSet();

    private static HashSet<(string?, string?)> Labels(in Subject subject)
        => subject.Resource?["meta"] is JsonObject meta
            ? (meta["security"] as JsonArray ?? []).OfType<JsonObject>().Select(Coding).ToHashSet()
            : subject.Facts.Labels.Select(l => (l.System, l.Code)).ToHashSet();

    private static string? Self(in Subject subject)
        => subject.Resource is { } resource && Text(resource, "id") is { } id ? subject.Facts.ResourceType + "/" + id : null;

    /// <summary>A period read once: its start and end as instants (partial dates at their start; an unreadable one is open).</summary>
    private readonly record struct Period(DateTimeOffset? Start, DateTimeOffset? End)
    {
        public static Period? Of(JsonObject? period) => period is null ? null : new Period(Date(Text(period, "start")), Date(Text(period, "end")));

        /// <summary>Whether <paramref name="moment"/> lies in <paramref name="period"/> (no period: always; no moment: never).</summary>
        public static bool Contains(Period? period, DateTimeOffset? moment)
            => period is not { } p || (moment is { } m && !(p.Start > m) && !(p.End < m));
    }
}
