using System.Globalization;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Policies;

/// <summary>Who asks, as a Consent's provisions see it: the token's client, its fhirUser, the organization its user acts for, and its purposes of use.</summary>
/// <param name="BreakGlassAllowed">Whether this client may break the glass (HEARTH_BTG_CLIENTS): only then does a purpose of BTG count.</param>
public sealed record ConsentRequester(string? ClientId, string? FhirUser, IReadOnlyList<string> PurposeOfUse, bool BreakGlassAllowed)
{
    public const string BreakGlassPurpose = "BTG";

    /// <summary>The organization the user acts for (IHE IUA <c>subject_organization_id</c>): an identifier or an <c>Organization/…</c> reference.</summary>
    public string? Organization { get; init; }

    /// <summary>A requester nothing is known of (no client, user or purpose).</summary>
    public static ConsentRequester Nobody { get; } = new(null, null, [], false);

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
/// fhirUser or organization by reference, or its client or organization by
/// <c>reference.identifier.value</c>), <c>purpose</c>
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

    private readonly ConsentProvision _root;

    private ConsentDirective(string? id, ConsentProvision root, string? unsupported)
    {
        Id = id;
        _root = root;
        Unsupported = unsupported;
    }

    public string? Id { get; }

    /// <summary>Why Hearth cannot enforce this Consent as written (it then denies every resource of its patient); null when it can.</summary>
    public string? Unsupported { get; }

    /// <summary>
    /// A Consent the FHIR server gave for a patient's active privacy Consents, as text: read by
    /// <see cref="Read"/>; one that is not JSON Hearth can read (not an object, nested deeper than
    /// it parses) denies every resource of its patient instead of being passed over.
    /// </summary>
    public static ConsentDirective? Parse(string json)
        => FhirJson.TryParse(json) is JsonObject consent ? Read(consent) : new ConsentDirective(null, ConsentProvision.Empty, "it is not JSON Hearth can read");

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
            return new ConsentDirective(id, ConsentProvision.Empty, "it has a modifier extension");
        }

        var root = consent["provision"] as JsonObject ?? new JsonObject();
        var problem = Check(root, isRoot: true);
        return new ConsentDirective(id, problem is null ? ConsentProvision.Read(root) : ConsentProvision.Empty, problem);
    }

    /// <summary>
    /// This Consent's decision on a resource (its facts, and the resource as JSON: null to take the
    /// facts' own, read only when a condition looks into it) for <paramref name="requester"/> at <paramref name="now"/>.
    /// </summary>
    public ConsentDecision Decide(ResourceFacts facts, JsonObject? resource, ConsentRequester requester, DateTimeOffset now)
    {
        if (Unsupported is not null)
        {
            return new ConsentDecision(ConsentOutcome.Deny, false);
        }

        var subject = new Subject(facts, resource, requester, now);
        return _root.Matches(subject) ? _root.Decide(subject) : new ConsentDecision(ConsentOutcome.NotApplicable, false);
    }

    /// <summary>The patients whose Consents judge <paramref name="part"/> ("Patient/{id}"; a Patient on the server is its own).</summary>
    public static IEnumerable<string> PatientsOfPart(ResourceFacts part)
        => Enumerable.Range(0, PatientCount(part)).Select(i => Patient(part, i));

    /// <summary>How many patients' Consents judge <paramref name="part"/> (<see cref="Patient"/> names each, nothing made: the Consent policy's path).</summary>
    public static int PatientCount(ResourceFacts part) => part.PatientReferences.Count + (part.SelfReference is null ? 0 : 1);

    /// <summary>The <paramref name="index"/>th patient whose Consents judge <paramref name="part"/>: those it references, then a Patient itself.</summary>
    public static string Patient(ResourceFacts part, int index)
        => index < part.PatientReferences.Count ? part.PatientReferences[index] : part.SelfReference!;

    /// <summary>The patients whose Consents judge <paramref name="facts"/>: those of the resource and of every part of it, each once.</summary>
    public static IEnumerable<string> PatientsOf(ResourceFacts facts)
        => (facts.Parts.Count > 0 ? facts.Parts : [facts]).SelectMany(PatientsOfPart).Distinct(StringComparer.Ordinal);

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

    internal static IEnumerable<JsonObject> Items(JsonObject node, string name) => (node[name] as JsonArray ?? []).OfType<JsonObject>();

    internal static string? Text(JsonObject node, string name) => FhirElements.TryGetString(node, name, out var value) ? value : null;

    /// <summary>A FHIR date, dateTime or instant (partial dates at their start); null when it is none.</summary>
    internal static DateTimeOffset? Date(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var full = text.Length switch { 4 => text + "-01-01", 7 => text + "-01", _ => text };
        return DateTimeOffset.TryParse(full, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;
    }

    /// <summary>What a provision is matched against.</summary>
    internal readonly record struct Subject(ResourceFacts Facts, JsonObject? GivenResource, ConsentRequester Requester, DateTimeOffset Now)
    {
        /// <summary>The resource as JSON: the one given, else the facts' own (a node over the parsed answer, made only when asked).</summary>
        public JsonObject? Resource => GivenResource ?? Facts.Resource;

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
}
