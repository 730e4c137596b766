using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Permissions;

/// <summary>
/// The one place a resource is judged: its facts (type, labels, patients, and those of every
/// resource inside it), the patients and security contexts its references resolved to, and the
/// token's permissions give the decision, and what the resource needed (for a UMA ticket). Reads,
/// writes (body and stored versions), batch entries and export lines all come here.
/// </summary>
public sealed class Adjudicator
{
    private readonly RuleSettings settings;
    private readonly Policies.IResourcePolicy[] _chain; // an array: iterated with no enumerator made, for every resource judged

    /// <summary>The chain HEARTH_POLICIES names (<see cref="Policies.PolicyChain.For"/>).</summary>
    public Adjudicator(RuleSettings settings)
        : this(settings, Policies.PolicyChain.For(settings))
    {
    }

    /// <summary>An explicit chain, in order.</summary>
    public Adjudicator(RuleSettings settings, IReadOnlyList<Policies.IResourcePolicy> chain)
    {
        this.settings = settings;
        _chain = [.. chain];
    }

    /// <summary>The chain, in order.</summary>
    public IReadOnlyList<Policies.IResourcePolicy> Chain => _chain;

    /// <summary>
    /// Judges one resource for <paramref name="action"/> (unprotected types always pass): each
    /// policy of the chain in turn; the first deny decides (and is noted in the request's ledger
    /// with the policy's name and reason), and a resource no policy permitted is not granted.
    /// </summary>
    public Judgement Judge(ResourceFacts facts, ResolvedReferences resolved, PermissionSet permissions, FhirAction action)
    {
        if (settings.UnprotectedResourceTypes.Contains(facts.ResourceType))
        {
            return Judgement.Permitted;
        }

        var required = Required(facts, resolved, action);
        var question = new Policies.PolicyQuestion(facts, required, resolved, permissions, action, this);
        var permitted = false;
        foreach (var policy in _chain)
        {
            var verdict = policy.Decide(in question);
            if (verdict.Outcome == Policies.PolicyOutcome.Deny)
            {
                resolved.Ledger?.Denied(policy.Name, verdict.Reason);
                return new Judgement(verdict.Decision, required);
            }

            permitted |= verdict.Outcome == Policies.PolicyOutcome.Permit;
        }

        return new Judgement(permitted ? Decision.Permit : Decision.NotGranted, required);
    }

    /// <summary>Judges several resources (a write's body and stored version); the first that is not permitted, or <see cref="Judgement.Permitted"/>.</summary>
    public Judgement JudgeAll(IEnumerable<(ResourceFacts Facts, FhirAction Action)> checks, ResolvedReferences resolved, PermissionSet permissions)
    {
        foreach (var (facts, action) in checks)
        {
            var judgement = Judge(facts, resolved, permissions, action);
            if (!judgement.IsPermitted)
            {
                return judgement;
            }
        }

        return Judgement.Permitted;
    }

    /// <summary>
    /// What one resource needs for <paramref name="action"/>; null when no permission can grant it
    /// (a patient that cannot be resolved, a Patient without identifiers, a security context that
    /// cannot be read).
    /// </summary>
    public RequiredPermission? Required(ResourceFacts facts, ResolvedReferences resolved, FhirAction action)
    {
        if (facts.PatientLink == PatientLinkKind.Unresolvable)
        {
            return null;
        }

        var patients = new List<ResolvedPatient>(facts.PatientReferences.Count + facts.InlinePatients.Count);
        var labels = facts.Labels;
        if (!AddPatients(facts, resolved, patients))
        {
            return null;
        }

        if (facts.SecurityContexts.Count > 0)
        {
            // A Binary is as sensitive as the resource its securityContext names: its patients and labels count.
            var contextLabels = new List<SecurityLabel>(labels);
            foreach (var reference in facts.SecurityContexts)
            {
                if (resolved.Context(reference) is not { PatientLink: not PatientLinkKind.Unresolvable, SecurityContexts.Count: 0 } context
                    || !AddPatients(context, resolved, patients))
                {
                    return null;
                }

                contextLabels.AddRange(context.Labels);
            }

            labels = SecurityLabel.HighWaterMark(contextLabels);
        }

        return new RequiredPermission(patients.Count > 0 ? patients : null, facts.ResourceType, action, labels) { Facts = facts };
    }

    /// <summary>
    /// Adds the patients of <paramref name="facts"/>: those that are part of it (identified by
    /// their identifiers; a Patient on the server also by its own reference), and those it refers
    /// to (resolved through <paramref name="resolved"/>, or known by reference alone when they
    /// could not be). False when a patient part has no identifier to designate it by.
    /// </summary>
    private bool AddPatients(ResourceFacts facts, ResolvedReferences resolved, List<ResolvedPatient> patients)
    {
        for (var i = 0; i < facts.InlinePatients.Count; i++)
        {
            var identifiers = facts.InlinePatients[i];
            var self = i == 0 ? facts.SelfReference : null;
            var patient = ResolvedPatient.From(identifiers, settings.DesignatedPatientIdSystems) is { } identified
                ? identified with { Reference = self }
                : self is not null ? ResolvedPatient.ReferenceOnly(self) with { Identifiers = identifiers } : null;
            if (patient is null)
            {
                return false;
            }

            Add(patients, patient);
        }

        for (var i = 0; i < facts.PatientReferences.Count; i++) // by index: no enumerator made per resource
        {
            var reference = facts.PatientReferences[i];

            // The gateway resolves patients with their reference already set: then no copy is made per judgement.
            Add(patients, resolved.Patient(reference) is { } patient
                ? patient.Reference == reference ? patient : patient with { Reference = reference }
                : ResolvedPatient.ReferenceOnly(reference));
        }

        return true;
    }

    private static void Add(List<ResolvedPatient> patients, ResolvedPatient patient)
    {
        if (!patients.Contains(patient))
        {
            patients.Add(patient);
        }
    }
}

/// <summary>The decision on one resource, and what it needed (null: no permission could grant it, or nothing was needed).</summary>
public readonly record struct Judgement(Decision Decision, RequiredPermission? Needed)
{
    public static Judgement Permitted { get; } = new(Decision.Permit, null);

    public bool IsPermitted => Decision == Decision.Permit;
}
