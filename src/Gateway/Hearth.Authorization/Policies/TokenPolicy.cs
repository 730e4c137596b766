using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Policies;

/// <summary>
/// The first policy: the token's Pauldron permissions and SMART scopes. It grants a resource when
/// a permission covers the whole (every patient, the highest confidentiality) and no deny
/// overlaps it or any part of it (an embedded resource of a denied patient, type or label).
/// </summary>
public sealed class TokenPolicy : IResourcePolicy
{
    public const string PolicyName = "token";

    public string Name => PolicyName;

    public PolicyVerdict Decide(in PolicyQuestion question)
    {
        if (question.Required is not { } required)
        {
            return PolicyVerdict.Deny(Decision.NotGranted, "no permission can grant it");
        }

        var decision = question.Permissions.Evaluate(required);
        if (decision != Decision.Permit)
        {
            return PolicyVerdict.Deny(decision, decision == Decision.ExplicitlyDenied ? "a deny of the token covers it" : "no grant of the token covers it");
        }

        foreach (var part in question.Facts.Parts)
        {
            if (question.Adjudicator.Required(part, question.Resolved, question.Action) is { } partRequired && question.Permissions.IsDenied(partRequired))
            {
                return PolicyVerdict.Deny(Decision.ExplicitlyDenied, "a deny of the token covers a part of it");
            }
        }

        return PolicyVerdict.Permit;
    }
}
