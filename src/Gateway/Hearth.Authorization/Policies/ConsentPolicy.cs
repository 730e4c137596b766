using Hearth.Authorization.Configuration;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Policies;

/// <summary>
/// The patients' privacy Consents, after the token: every active privacy Consent of every patient
/// of the resource and of its parts decides (a deny of any wins; Consents that could not be read
/// deny), and the label obligations of what is disclosed are applied (<see cref="LabelObligations"/>).
/// It never grants: where no Consent denies, it abstains. A permit for purpose BTG that passed a
/// deny is noted in the request's ledger (break-the-glass).
/// </summary>
public sealed class ConsentPolicy(RuleSettings settings) : IResourcePolicy
{
    public const string PolicyName = "consent";

    public string Name => PolicyName;

    public PolicyVerdict Decide(in PolicyQuestion question)
    {
        var requester = Requester(question.Permissions.Requester);
        var resolved = question.Resolved;
        var brokeTheGlass = false;
        var parts = question.Facts.Parts;
        for (var i = 0; i < Math.Max(parts.Count, 1); i++) // by index, nothing made: this runs for every resource judged
        {
            var part = parts.Count > 0 ? parts[i] : question.Facts;
            if (LabelObligations.Apply(part, question.Action, resolved.Ledger) is { Outcome: PolicyOutcome.Deny } refused)
            {
                return refused;
            }

            for (var p = 0; p < ConsentDirective.PatientCount(part); p++)
            {
                if (Judge(part, ConsentDirective.Patient(part, p), requester, resolved, ref brokeTheGlass) is { } denied)
                {
                    return denied;
                }
            }
        }

        if (brokeTheGlass)
        {
            resolved.Ledger?.GlassBroken();
        }

        return PolicyVerdict.Abstain;
    }

    /// <summary>A deny by one of <paramref name="patient"/>'s Consents (or because they could not be read); null when none denies.</summary>
    private static PolicyVerdict? Judge(Fhir.ResourceFacts part, string patient, ConsentRequester requester, Fhir.ResolvedReferences resolved, ref bool brokeTheGlass)
    {
        if (resolved.Consents(patient) is not { } consents)
        {
            return PolicyVerdict.Deny(Decision.ConsentDenied, "the Consents of its patient could not be read");
        }

        for (var c = 0; c < consents.Count; c++) // by index: no enumerator made per resource
        {
            var consent = consents[c];
            var decision = consent.Decide(part, null, requester, resolved.Now);
            if (decision.Outcome == ConsentOutcome.Deny)
            {
                return PolicyVerdict.Deny(Decision.ConsentDenied, consent.Id is { } id ? "Consent/" + id + " denies it" : "a Consent of its patient denies it");
            }

            brokeTheGlass |= decision.BrokeTheGlass;
        }

        return null;
    }

    /// <summary>The token's holder, allowed to break the glass when its client is one of HEARTH_BTG_CLIENTS.</summary>
    private ConsentRequester Requester(ConsentRequester requester)
        => requester.ClientId is { } client && settings.BreakGlassClients.Contains(client) ? requester with { BreakGlassAllowed = true } : requester;
}
