using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Resolution;

/// <summary>
/// Judges a parsed answer: resolves the Patients (and Binary security contexts) it refers to, then
/// applies the filter. A denied answer carries what its resources would have needed (for a UMA ticket).
/// </summary>
internal sealed class ResponseJudge(ResponseFilter filter, ReferenceResolver resolver)
{
    public async ValueTask<FilterResult> JudgeAsync(ParsedResponse parsed, PermissionSet permissions, FhirAction action)
    {
        var resolved = await resolver.ResolveAsync(parsed.Judged);
        var result = filter.Apply(parsed, resolved, permissions, action);
        return result.Outcome is FilterOutcome.Denied or FilterOutcome.Emptied
            ? result with { Unmet = filter.Unmet(parsed, resolved, action) }
            : result;
    }

    /// <summary>Judges resources one by one (export lines, a write's versions) after resolving what they all refer to.</summary>
    public ValueTask<ResolvedReferences> ResolveAsync(IEnumerable<ResourceFacts> facts, CancellationToken cancellationToken = default)
        => resolver.ResolveAsync(facts, cancellationToken);
}
