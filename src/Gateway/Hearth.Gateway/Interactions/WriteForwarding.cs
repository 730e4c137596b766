using System.Text.Json.Nodes;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// Where a permitted write goes: <see cref="Target"/> (the request itself, or the plain interaction
/// a conditional one became), pinned to <see cref="ExpectedVersion"/>; a patch as a PUT of its
/// judged result (<see cref="AsUpdate"/>); a conditional one to <see cref="Url"/> (its plain
/// interaction's), with no condition but <see cref="IfNoneExist"/>.
/// </summary>
internal sealed record WriteTarget(FhirRequest Target, string? ExpectedVersion, bool AsUpdate, string? Url, string? IfNoneExist)
{
    /// <summary>See <see cref="WriteDecision.ConsentPatients"/>.</summary>
    public IReadOnlyList<string>? ConsentPatients { get; init; }
}

/// <summary>The write as it goes out (see <see cref="WriteTarget"/>); the answer judged by <see cref="WriteAuthorizer"/>.</summary>
internal sealed class WriteForwarding(WriteAuthorizer authorizer, RequestState state, WriteTarget target) : IForwarding
{
    public void ChangeRequest(HttpRequestMessage request)
    {
        if (target.Url is not null)
        {
            request.RequestUri = new Uri(target.Url);
            request.Method = HttpMethod.Parse(Hearth.Authorization.Writes.ConditionalWrites.MethodOf(target.Target.Interaction));
        }

        request.Headers.Remove("If-None-Exist");
        if (target.IfNoneExist is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Exist", target.IfNoneExist);
        }

        if (target.ExpectedVersion is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", $"W/\"{target.ExpectedVersion}\"");
        }

        if (target.AsUpdate)
        {
            request.Method = HttpMethod.Put;
        }
    }

    public Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken) => authorizer.JudgeAsync(target, state, upstream);
}

/// <summary>What a patch body is.</summary>
internal enum PatchKind
{
    None,
    Json,
    FhirPath,
    Unsupported,
}

/// <summary>
/// A write's decision: the refusal (null: permitted), the stored version the write must be pinned
/// to, and for a patch the resource to send as an update instead of the patch.
/// </summary>
internal readonly record struct WriteDecision(Refusal? Refusal, string? ExpectedVersion, JsonObject? Replacement)
{
    public static WriteDecision Refused(Refusal refusal) => new(refusal, null, null);

    /// <summary>For a write of a Consent: the patients it belonged to and will belong to, whose Consents are forgotten cluster-wide once it succeeded.</summary>
    public IReadOnlyList<string>? ConsentPatients { get; init; }
}
