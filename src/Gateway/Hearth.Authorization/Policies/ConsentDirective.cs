using System.Globalization;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Policies;

/// <summary>Who asks, as a Consent's provisions see it: the token's client, its fhirUser, and its purposes of use.</summary>
/// <param name="BreakGlassAllowed">Whether this client may break the glass (HEARTH_BTG_CLIENTS): only then does a purpose of BTG count.</param>
public sealed record ConsentRequester(string? ClientId, string? FhirUser, IReadOnlyList<string> PurposeOfUse, bool BreakGlassAllowed)
{
    public const string BreakGlassPurpose = "BTG";

    /// <summary>The purposes a provision may match: BTG only for a client allowed to break the glass.</summary>
    public bool Has(string purpose) => PurposeOfUse.Contains(purpose, StringComparer.Ordinal) && (purpose != BreakGlassPurpose || BreakGlassAllowed);
}

public enum ConsentOutcome
{
    /// <summary>The Consent says nothing of this resource for this requester (not in force, or its root rule does not apply).</summary>
    NotApplicable,

    Permit,

    Deny,
}

/// <summary>A Consent's decision on one resource; <paramref name="BrokeTheGlass"/> when a permit for purpose BTG overrode a deny.</summary>
public readonly record struct ConsentDecision(ConsentOutcome Outcome, bool BrokeTheGlass);

/// <summary>
/// A patient's privacy Consent (FHIR R4: scope <c>patient-privacy</c>, status <c>active</c>) as
/// rules Hearth enforces. The root provision is the base rule (its <c>type</c>; permit when it has
/// none) and applies when its own conditions match; a nested provision whose conditions match is an
/// exception, decided in its turn by its own nested provisions, and of several matching
/// exceptions a deny wins. Conditions: <c>period</c> (of the rule), <c>actor</c> (the token's
/// fhirUser by reference, or its client by <c>reference.identifier.value</c>), <c>purpose</c>
/// (v3-ActReason; BTG only for clients allowed to break the glass), <c>class</c> (resource types),
/// <c>code</c> (the resource's <c>code</c>), <c>securityLabel</c> (its <c>meta.security</c>),
/// <c>data</c> (meaning <c>instance</c>: the resource itself) and <c>dataPeriod</c> (its clinical
/// date). Any other element of a provision (<c>action</c>, a <c>data.meaning</c> other than
/// instance, a class of another system, a modifier extension) makes the whole Consent deny: Hearth
/// does not enforce what it cannot read (<see cref="Unsupported"/>).
/// </summary>
public sealed class ConsentDirective
{
    private const string ResourceTypes = "http://hl7.org/fhir/resource-types";
    private const string ConsentScope = "http://terminology.hl7.org/CodeSystem/consentscope";

    private static readonly HashSet<string> ProvisionElements = new(StringComparer.Ordinal)
    {
        "id", "extension", "type", "period", "actor", "purpose", "class", "code", "securityLabel", "data", "dataPeriod", "provision",
    };

    private static readonly string[] DateElements =
        ["effectiveDateTime", "effectiveInstant", "issued", "recordedDate", "onsetDateTime", "authoredOn", "occurrenceDateTime", "date", "created"];

    private readonly Provision _root;

    private ConsentDirective(string? id, Provision root, string? unsupported)
    {
        Id = id;
        _root = root;
        Unsupported = unsupported;
    }

    public string? Id { get; }

    /// <summary>Why Hearth cannot enforce this Consent as written (it then denies every resource of its patient); null when it can.</summary>
    public string? Unsupported { get; }

    /// <summary>
    /// Reads an active patient-privacy Consent; null for any other (a draft, inactive, rejected or
    /// entered-in-error Consent, or one of another scope, has no effect).
    /// </summary>
    public static ConsentDirective? Read(JsonObject consent)
    {
        if (!FhirElements.IsResource(consent, out _, out var type) || type != "Consent"
            || !FhirElements.TryGetString(consent, "status", out var status) || status != "active" || !IsPrivacy(consent["scope"]))
        {
            return null;
        }

        var id = FhirElements.TryGetString(consent, "id", out var consentId) ? consentId : null;
        if (consent["modifierExtension"] is not null)
        {
            return new ConsentDirective(id, Provision.Empty, "it has a modifier extension");
        }

        var root = consent["provision"] as JsonObject ?? new JsonObject();
        var problem = Check(root, isRoot: true);
        return new ConsentDirective(id, problem is null ? Provision.Read(root) : Provision.Empty, problem);
    }

    /// <summary>This Consent's decision on <paramref name="resource"/> (its facts, and the resource as JSON) for <paramref name="requester"/> at <paramref name="now"/>.</summary>
    public ConsentDecision Decide(ResourceFacts facts, JsonObject? resource, ConsentRequester requester, DateTimeOffset now)
    {
        if (Unsupported is not null)
        {
            return new ConsentDecision(ConsentOutcome.Deny, false);
        }

        var subject = new Subject(facts, resource, requester, now);
        return _root.Matches(subject) ? _root.Decide(subject) : new ConsentDecision(ConsentOutcome.NotApplicable, false);
    }

    private static bool IsPrivacy(JsonNode? scope)
        => scope is JsonObject concept && concept["coding"] is JsonArray codings
           && codings.OfType<JsonObject>().Any(c => Text(c, "code") == "patient-privacy" && Text(c, "system") is null or ConsentScope);

    /// <summary>Why a provision (and its nested ones) cannot be enforced; null when it can.</summary>
    private static string? Check(JsonObject provision, bool isRoot)
    {
        if (provision.Select(p => p.Key).FirstOrDefault(k => !ProvisionElements.Contains(k)) is { } other)
        {
            return $"a provision has {(other.Length <= 32 ? other : "an element")} Hearth does not enforce";
        }

        if (!isRoot && Text(provision, "type") is not ("deny" or "permit"))
        {
            return "a nested provision has no type";
        }

        if (isRoot && Text(provision, "type") is not (null or "deny" or "permit"))
        {
            return "the provision's type is neither deny nor permit";
        }

        if (Items(provision, "class").Any(c => Text(c, "system") is not (null or ResourceTypes) || Text(c, "code") is null))
        {
            return "a provision's class is not a resource type";
        }

        if (Items(provision, "data").Any(d => Text(d, "meaning") != "instance" || (d["reference"] as JsonObject)?["reference"] is null))
        {
            return "a provision's data is not an instance reference";
        }

        foreach (var nested in Items(provision, "provision"))
        {
            if (Check(nested, isRoot: false) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static IEnumerable<JsonObject> Items(JsonObject node, string name) => (node[name] as JsonArray ?? []).OfType<JsonObject>();

    private static string? Text(JsonObject node, string name) => FhirElements.TryGetString(node, name, out var value) ? value : null;

    /// <summary>A FHIR date, dateTime or instant (partial dates at their start); null when it is none.</summary>
    private static DateTimeOffset? Date(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var full = text.Length switch { 4 => text + "-01-01", 7 => text + "-01", _ => text };
        return DateTimeOffset.TryParse(full, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;
    }

    private static bool InPeriod(JsonObject? period, DateTimeOffset? moment)
    {
        if (period is null)
        {
            return true;
        }

        if (moment is null)
        {
            return false;
        }

        return !(Date(Text(period, "start")) > moment) && !(Date(Text(period, "end")) < moment);
    }

    /// <summary>What a provision is matched against.</summary>
    private sealed record Subject(ResourceFacts Facts, JsonObject? Resource, ConsentRequester Requester, DateTimeOffset Now)
    {
        /// <summary>The resource's clinical date (the first of its usual date elements), else its lastUpdated.</summary>
        public DateTimeOffset? ClinicalDate
        {
            get
            {
                if (Resource is null)
                {
                    return null;
                }

                foreach (var name in DateElements)
                {
                    if (Text(Resource, name) is { } text)
                    {
                        return Date(text);
                    }
                }

                return (Resource["effectivePeriod"] ?? Resource["period"]) is JsonObject period && Text(period, "start") is { } start
                    ? Date(start)
                    : Resource["meta"] is JsonObject meta ? Date(Text(meta, "lastUpdated")) : null;
            }
        }
    }

    /// <summary>One rule: its type, its conditions (each list: any of its items), and its exceptions.</summary>
    private sealed record Provision(string? Type, JsonObject Node, IReadOnlyList<Provision> Nested)
    {
        public static Provision Empty { get; } = new(null, new JsonObject(), []);

        public static Provision Read(JsonObject node)
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

            if (Text(reference, "reference") is { } target && requester.FhirUser is { } user)
            {
                if (target == user || user.EndsWith("/" + target, StringComparison.Ordinal) || target.EndsWith("/" + user, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return reference["identifier"] is JsonObject identifier && Text(identifier, "value") is { } value && value == requester.ClientId;
        }

        private static HashSet<(string?, string?)> Codings(JsonObject? concept)
            => (concept?["coding"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (Text(c, "system"), Text(c, "code"))).ToHashSet();

        private static HashSet<(string?, string?)> Labels(Subject subject)
            => subject.Resource?["meta"] is JsonObject meta
                ? (meta["security"] as JsonArray ?? []).OfType<JsonObject>().Select(c => (Text(c, "system"), Text(c, "code"))).ToHashSet()
                : subject.Facts.Labels.Select(l => (l.System, l.Code)).ToHashSet();

        private static string? Self(Subject subject)
            => subject.Resource is { } resource && Text(resource, "id") is { } id ? subject.Facts.ResourceType + "/" + id : null;
    }
}
