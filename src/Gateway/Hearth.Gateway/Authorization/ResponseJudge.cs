using Hearth.Authorization.Permissions;
using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Authorization;

/// <summary>Judges a parsed answer: resolves the Patients it refers to, then applies the filter.</summary>
internal sealed class ResponseJudge(ResponseFilter filter, PatientResolver resolver)
{
    public async Task<FilterResult> JudgeAsync(ParsedResponse parsed, PermissionSet permissions, string action)
    {
        var patients = await resolver.ResolveAsync(parsed.PatientReferences);
        return filter.Apply(parsed, reference => patients.GetValueOrDefault(reference), permissions, action);
    }
}
