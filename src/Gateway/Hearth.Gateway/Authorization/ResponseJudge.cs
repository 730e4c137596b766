using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Authorization;

/// <summary>
/// Judges a parsed answer: resolves the Patients it refers to, then applies the filter. A denied
/// answer carries what its resources would have needed (for a UMA ticket).
/// </summary>
internal sealed class ResponseJudge(ResponseFilter filter, PatientResolver resolver)
{
    public async Task<FilterResult> JudgeAsync(ParsedResponse parsed, PermissionSet permissions, string action)
    {
        var patients = await resolver.ResolveAsync(parsed.PatientReferences);
        var result = filter.Apply(parsed, reference => patients.GetValueOrDefault(reference), permissions, action);
        return result.Outcome == FilterOutcome.Denied
            ? result with { Unmet = filter.Unmet(parsed, reference => patients.GetValueOrDefault(reference), action) }
            : result;
    }
}
