using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Policies;

/// <summary>
/// One policy of the chain (HEARTH_POLICIES): asked about every resource judged, in the chain's
/// order, it permits, denies or abstains. A deny anywhere wins (the first ends the judgement); a
/// resource no policy permitted is not granted. A new policy is a type implementing this and its
/// line in <see cref="PolicyChain.Registered"/>.
/// </summary>
public interface IResourcePolicy
{
    /// <summary>Its name in HEARTH_POLICIES, in audit records (<c>policy</c>) and in the <c>policy</c> metrics label.</summary>
    string Name { get; }

    PolicyVerdict Decide(in PolicyQuestion question);
}

public enum PolicyOutcome
{
    /// <summary>The policy says nothing of this resource.</summary>
    Abstain,

    Permit,

    Deny,
}

/// <summary>A policy's answer; for a deny, the <see cref="Decision"/> it makes and why (no token, no resource content: ids and codes only).</summary>
public readonly record struct PolicyVerdict(PolicyOutcome Outcome, Decision Decision, string? Reason)
{
    public static PolicyVerdict Abstain => default;

    public static PolicyVerdict Permit { get; } = new(PolicyOutcome.Permit, Decision.Permit, null);

    public static PolicyVerdict Deny(Decision decision, string reason) => new(PolicyOutcome.Deny, decision, reason);
}

/// <summary>
/// What a policy judges: the resource's facts, what it needs (null when no permission could grant
/// it), what its references resolved to (patients, security contexts, Consents), the token's
/// permissions, and the action. <see cref="Adjudicator"/> gives what a part of it needs.
/// </summary>
public readonly record struct PolicyQuestion(
    ResourceFacts Facts, RequiredPermission? Required, ResolvedReferences Resolved, PermissionSet Permissions, FhirAction Action, Adjudicator Adjudicator);
