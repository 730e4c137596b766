using Hearth.Authorization.Responses;

namespace Hearth.Gateway.Pipeline;

/// <summary>
/// A body Hearth sends: a FHIR resource as JSON (rewritten to the gateway's base and converted to
/// XML when the client asked), or another document (an export manifest, a SMART configuration),
/// or a stream written as it is judged (an export file).
/// </summary>
internal sealed record Answer(int Status, string? ContentType, ReadOnlyMemory<byte> Body)
{
    public static Answer Fhir(int status, string json) => new(status, OperationOutcomes.ContentType, System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>A FHIR JSON body as bytes; <paramref name="owner"/> (a pooled buffer holding them) is disposed once they are written.</summary>
    public static Answer Fhir(int status, ReadOnlyMemory<byte> utf8, IDisposable? owner = null) => new(status, OperationOutcomes.ContentType, utf8) { Owner = owner };

    /// <summary>Disposed by the <see cref="ReplyWriter"/> once the body is written (or not).</summary>
    public IDisposable? Owner { get; init; }

    /// <summary>When set, the body is this Bundle, written from the FHIR server's bytes as it is sent (<see cref="Body"/> is empty).</summary>
    public EditedBundle? Edited { get; init; }

    /// <summary>A FHIR resource as JSON: its FHIR server base is rewritten, and it is sent as XML when the client asked.</summary>
    public bool IsFhirJson { get; init; } = true;

    /// <summary>The FHIR server's ETag and Last-Modified still describe it (its body is the server's, unchanged).</summary>
    public bool KeepValidators { get; init; }

    /// <summary>Headers Hearth sets (after the FHIR server's, which are filtered and rewritten).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = NoHeaders;

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    /// <summary>FHIR server headers that must not pass, beyond the hop and server headers (an export's status headers).</summary>
    public IReadOnlyList<string> DropHeaders { get; init; } = [];

    /// <summary>When set, the body is written by this (as it is judged) instead of <see cref="Body"/>.</summary>
    public Func<Stream, CancellationToken, Task>? Stream { get; init; }
}

/// <summary>What the client gets for a forwarded request: an answer, or a refusal.</summary>
internal readonly record struct Reply(Answer? Answer, Refusal? Refusal)
{
    public static implicit operator Reply(Answer answer) => new(answer, null);

    public static implicit operator Reply(Refusal refusal) => new(null, refusal);
}

/// <summary>
/// An authorizer's decision before forwarding: refuse, answer without the FHIR server, or forward,
/// with the <see cref="IForwarding"/> that changes the forwarded request and judges the answer.
/// </summary>
internal readonly record struct Verdict(Refusal? Refusal, Answer? Answer, IForwarding? Forwarding)
{
    public static Verdict Forward(IForwarding forwarding) => new(null, null, forwarding);

    public static implicit operator Verdict(Answer answer) => new(null, answer, null);

    public static implicit operator Verdict(Refusal refusal) => new(refusal, null, null);
}

/// <summary>What happens around one request that is forwarded: the change to the request, then the judgement of the answer.</summary>
internal interface IForwarding
{
    /// <summary>Changes the request the FHIR server gets (method, URL, headers); called in YARP's request transform, after HEAD became GET.</summary>
    void ChangeRequest(HttpRequestMessage request)
    {
    }

    /// <summary>Judges the FHIR server's answer: what the client gets.</summary>
    Task<Reply> JudgeAsync(UpstreamAnswer upstream, CancellationToken cancellationToken);
}
