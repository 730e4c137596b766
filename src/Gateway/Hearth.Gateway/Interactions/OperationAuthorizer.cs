using System.Text;
using System.Text.Json.Nodes;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Requests;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The operations whose answer cannot be judged resource by resource, judged by what they read and
/// write before anything is forwarded (<see cref="Operations"/>): an instance's <c>$meta</c> by the
/// stored resource (<c>read</c>), a type's or the system's by every resource of it being readable;
/// <c>$meta-add</c> / <c>$meta-delete</c> as an update of the stored version and of the result;
/// <c>$validate</c> as the write it describes; <c>$graphql</c> only for a token that reads every
/// resource of every type. The FHIR server's answer then passes as it is.
/// </summary>
internal sealed class OperationAuthorizer(HearthSettings settings, WriteAuthorizer writes, StoredVersions stored, ResponseFilter filter, Adjudicator adjudicator, ReferenceResolver resolver)
    : IInteractionAuthorizer
{
    public bool Handles(FhirRequest request) => request.OperationRule?.Kind is OperationKind.MetaRead or OperationKind.MetaWrite or OperationKind.Validate or OperationKind.GraphQL;

    public async ValueTask<Verdict> AuthorizeAsync(RequestState state, HttpContext http)
    {
        var request = state.Request;
        var kind = request.OperationRule!.Kind;
        if (kind == OperationKind.GraphQL || (kind == OperationKind.MetaRead && request.Id is null))
        {
            // Judged whole, before its body is read: forwarded as it came (bounded), the answer as it is.
            return await DecideAsync(request, null, "", state.Permissions, http.RequestAborted) is { } whole
                ? whole
                : await ForwardRawAsync(state, http, fhir: kind != OperationKind.GraphQL);
        }

        var (body, refusal) = request.ByPost ? await OperationBodies.ReadAsync(writes, http, request) : (null, null);
        refusal ??= await DecideAsync(request, body, http.Request.Query["mode"].ToString(), state.Permissions, http.RequestAborted);
        var written = kind == OperationKind.MetaWrite ? request.ResourceType + "/" + request.Id : null;
        return refusal ?? Verdict.Forward(new Forwarding(fhir: true, written, resolver));
    }

    /// <summary>
    /// The decision for an operation of this authorizer's kinds, alone or as a batch entry:
    /// <paramref name="body"/> its Parameters (or resource), <paramref name="mode"/> a $validate's mode from the URL.
    /// </summary>
    public async Task<Refusal?> DecideAsync(FhirRequest request, JsonObject? body, string mode, PermissionSet permissions, CancellationToken cancellationToken)
        => request.OperationRule!.Kind switch
        {
            OperationKind.GraphQL => permissions.ReadsEverything(null) ? null
                : Refusal.Problem(403, "forbidden", "$graphql can reach resources of any type: only a token that may read every resource of every type may use it."),
            OperationKind.MetaRead when request.Id is null => permissions.ReadsEverything(request.ResourceType) ? null
                : Refusal.Problem(403, "forbidden", $"$meta of {(request.ResourceType is { } type ? "every " + type : "the whole server")} lists the labels and tags of resources this token may not all read."),
            OperationKind.Validate => await ValidateAsync(request, body, mode, permissions, cancellationToken),
            OperationKind.MetaWrite => await MetaWriteAsync(request, body, permissions, cancellationToken),
            _ => await JudgeStoredAsync(request, [FhirAction.Read], null, permissions, cancellationToken),
        };

    /// <summary>$validate, as the write it describes: mode (query or body) create or profile → a create of the resource; update → an update; delete → a delete of the stored version.</summary>
    private async Task<Refusal?> ValidateAsync(FhirRequest request, JsonObject? body, string queryMode, PermissionSet permissions, CancellationToken cancellationToken)
    {
        var parameters = body is not null && FhirElements.IsResource(body, out _, out var bodyType) && bodyType == "Parameters" ? body : null;
        var resource = parameters is null ? body : (parameters["parameter"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(p => FhirElements.TryGetString(p, "name", out var n) && n == "resource")?["resource"] as JsonObject;
        var bodyMode = (OperationParameters.Primitives(parameters ?? new JsonObject()) ?? []).FirstOrDefault(p => p.Key == "mode").Value?.FirstOrDefault();
        var mode = queryMode.Length > 0 ? queryMode : bodyMode ?? (request.Id is null ? "create" : "update");
        var target = request.Id ?? (resource is not null && FhirElements.TryGetString(resource, "id", out var id) ? id : null);
        FhirRequest? write = mode switch
        {
            "create" or "profile" => new FhirRequest(FhirInteraction.Create, request.ResourceType, null),
            "update" when target is not null => new FhirRequest(FhirInteraction.Update, request.ResourceType, target),
            "delete" when request.Id is not null => new FhirRequest(FhirInteraction.Delete, request.ResourceType, request.Id),
            _ => null,
        };
        if (write is null || (write.Interaction != FhirInteraction.Delete && resource is null))
        {
            return Refusal.Problem(400, "invalid", "$validate needs a resource (the body, or a Parameters resource with a resource parameter) and a mode of create, update (with an id), delete (of an instance) or profile.");
        }

        var bytes = resource is null ? [] : Encoding.UTF8.GetBytes(resource.ToJsonString(FhirJson.Output));
        return (await writes.DecideAsync(write, bytes, PatchKind.None, [], permissions, cancellationToken)).Refusal;
    }

    /// <summary>$meta-add / $meta-delete: the stored version read and updated, the result (the labels changed) updated.</summary>
    private async Task<Refusal?> MetaWriteAsync(FhirRequest request, JsonObject? body, PermissionSet permissions, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Refusal.Problem(400, "required", $"${request.Operation} needs a Parameters body with a meta parameter.");
        }

        return await JudgeStoredAsync(request, [FhirAction.Read, FhirAction.Update], current =>
        {
            var result = OperationParameters.ApplyMeta(current, body, add: request.Operation == "meta-add", out var error);
            return result is null ? (null, Refusal.Problem(400, "invalid", error!)) : (filter.Read(result)?.RootFacts, null);
        }, permissions, cancellationToken);
    }

    /// <summary>The stored resource judged for <paramref name="actions"/>, and what <paramref name="result"/> makes of it judged for update.</summary>
    private async Task<Refusal?> JudgeStoredAsync(FhirRequest request, FhirAction[] actions, Func<JsonObject, (ResourceFacts? Facts, Refusal? Refusal)>? result,
        PermissionSet permissions, CancellationToken cancellationToken)
    {
        var current = (await stored.ReadAsync(request.ResourceType!, request.Id!, withHistory: false, null, cancellationToken)).Current;
        if (current is null)
        {
            return Refusal.Problem(404, "not-found", $"There is no {request.ResourceType} with id {request.Id}.");
        }

        var checks = actions.Select(a => (current.RootFacts, a)).ToList();
        if (result?.Invoke(current.Root) is { } changed)
        {
            if (changed.Refusal is not null || changed.Facts is null)
            {
                return changed.Refusal ?? Refusal.Problem(400, "invalid", "The result would not be a FHIR resource.");
            }

            checks.Add((changed.Facts, FhirAction.Update));
        }

        var resolved = await resolver.ResolveAsync(checks.Select(c => c.Item1), cancellationToken);
        var judgement = adjudicator.JudgeAll(checks, resolved, permissions);
        return judgement.IsPermitted ? null : Refusal.NotPermitted(judgement.Needed is { } needed && PermissionRegistration.CanName(needed) ? [needed] : []);
    }

    /// <summary>An operation whose request is judged whole: the body (if any) read, bounded, and forwarded as read.</summary>
    private async Task<Verdict> ForwardRawAsync(RequestState state, HttpContext http, bool fhir)
    {
        if (state.Request.ByPost && await RequestBodies.BufferAsync(http, settings.Gateway.MaxRequestBytes) is null)
        {
            return RequestBodies.TooLarge(settings.Gateway);
        }

        return Verdict.Forward(new Forwarding(fhir, null, resolver));
    }

    /// <summary>
    /// Forwarded as it came; the answer passes as it is (see <see cref="OperationBodies.Pass"/>).
    /// What is cached of a resource whose labels changed (<paramref name="written"/>) is forgotten cluster-wide.
    /// </summary>
    private sealed class Forwarding(bool fhir, string? written, ReferenceResolver resolver) : IForwarding
    {
        public async Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken)
        {
            if (written is not null && upstream.Succeeded)
            {
                await resolver.InvalidateAsync(written);
            }

            return OperationBodies.Pass(upstream, fhir);
        }
    }
}
