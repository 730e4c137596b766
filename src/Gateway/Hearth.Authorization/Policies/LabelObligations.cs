using System.Text.Json;
using System.Text.Json.Nodes;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;

namespace Hearth.Authorization.Policies;

/// <summary>
/// Obligations a resource's security labels put on whoever discloses it (<c>meta.security</c> in
/// <c>http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy</c>), applied with the Consent
/// policy when the resource is disclosed (read, searched, exported): <c>NOAUTH</c> (no further
/// disclosure without the patient's authorization) is served with a header that says so;
/// <c>REDACT</c> removes the resource; any other obligation Hearth cannot apply, and it denies.
/// Writes are not disclosures: the writer already holds what it sends.
/// </summary>
public static class LabelObligations
{
    public const string System = "http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy";
    public const string NoFurtherDisclosure = "NOAUTH";
    public const string Redact = "REDACT";

    /// <summary>A deny for an obligation that removes <paramref name="part"/> or that Hearth cannot apply; otherwise abstains (noting NOAUTH in the ledger).</summary>
    public static PolicyVerdict Apply(ResourceFacts part, FhirAction action, PolicyLedger? ledger)
    {
        if (action is not (FhirAction.Read or FhirAction.Search or FhirAction.BulkExport))
        {
            return PolicyVerdict.Abstain;
        }

        var verdict = PolicyVerdict.Abstain;
        var noAuth = false;
        if (part.Element is { } element)
        {
            if (JsonElements.TryGet(element, "meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && JsonElements.TryGet(meta, "security", out var security) && security.ValueKind == JsonValueKind.Array)
            {
                foreach (var coding in security.EnumerateArray())
                {
                    if (coding.ValueKind == JsonValueKind.Object && JsonElements.TryGet(coding, "system", out var system)
                        && system.ValueKind == JsonValueKind.String && system.ValueEquals(System)) // no string made for the other labels
                    {
                        Obligation(JsonElements.TryGetString(coding, "code", out var code) ? code : null, ref verdict, ref noAuth);
                    }
                }
            }
        }
        else if (part.Resource?["meta"] is JsonObject jsonMeta && jsonMeta["security"] is JsonArray labels)
        {
            foreach (var coding in labels.OfType<JsonObject>())
            {
                if (FhirElements.TryGetString(coding, "system", out var system) && system == System)
                {
                    Obligation(FhirElements.TryGetString(coding, "code", out var code) ? code : null, ref verdict, ref noAuth);
                }
            }
        }

        if (noAuth && verdict.Outcome != PolicyOutcome.Deny)
        {
            ledger?.NoFurtherDisclosure();
        }

        return verdict;
    }

    private static void Obligation(string? code, ref PolicyVerdict verdict, ref bool noAuth)
    {
        if (verdict.Outcome == PolicyOutcome.Deny)
        {
            return;
        }

        switch (code)
        {
            case NoFurtherDisclosure:
                noAuth = true;
                break;
            case Redact:
                verdict = PolicyVerdict.Deny(Decision.ConsentDenied, "its REDACT obligation removes it");
                break;
            default:
                verdict = PolicyVerdict.Deny(Decision.ConsentDenied, $"its obligation {(code is { Length: <= 32 } ? code : "(unreadable)")} is one Hearth cannot apply");
                break;
        }
    }
}
