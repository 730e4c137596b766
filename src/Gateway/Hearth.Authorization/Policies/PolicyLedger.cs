namespace Hearth.Authorization.Policies;

/// <summary>
/// What the policy chain found while one request was judged, for its audit record, its metrics
/// and its answer: the first policy after the token's that denied a resource, and why (the
/// deciding policy: <see cref="DecidingPolicy"/>); whether a permit for purpose BTG passed a
/// Consent's deny (break-the-glass); whether something disclosed carries a NOAUTH obligation.
/// Judgements of one request may run in parallel: written atomically. A part of the request judged
/// on its own (one file of an export) keeps a <see cref="Child"/>: what it notes is the request's too.
/// </summary>
public sealed class PolicyLedger
{
    private readonly PolicyLedger? _parent;
    private Denial? _denial;
    private int _brokeTheGlass;
    private int _noFurtherDisclosure;

    public PolicyLedger()
    {
    }

    private PolicyLedger(PolicyLedger parent) => _parent = parent;

    /// <summary>The policy that decided the request's denials and redactions: the first beside the token policy that denied, else the token policy.</summary>
    public string DecidingPolicy => Volatile.Read(ref _denial)?.Policy ?? TokenPolicy.PolicyName;

    /// <summary>Why <see cref="DecidingPolicy"/> denied (its first reason), when it is not the token policy.</summary>
    public string? Reason => Volatile.Read(ref _denial)?.Reason;

    public bool BrokeTheGlass => Volatile.Read(ref _brokeTheGlass) != 0;

    /// <summary>Whether a resource served carries the NOAUTH obligation (no further disclosure without the patient's authorization).</summary>
    public bool MustNotDiscloseFurther => Volatile.Read(ref _noFurtherDisclosure) != 0;

    /// <summary>Notes that <paramref name="policy"/> denied a resource; the first policy other than the token's is kept, with its reason.</summary>
    public void Denied(string policy, string? reason)
    {
        if (policy != TokenPolicy.PolicyName && Volatile.Read(ref _denial) is null)
        {
            Interlocked.CompareExchange(ref _denial, new Denial(policy, reason), null); // policy and reason set as one
        }

        _parent?.Denied(policy, reason);
    }

    public void GlassBroken()
    {
        Interlocked.Exchange(ref _brokeTheGlass, 1);
        _parent?.GlassBroken();
    }

    public void NoFurtherDisclosure()
    {
        Interlocked.Exchange(ref _noFurtherDisclosure, 1);
        _parent?.NoFurtherDisclosure();
    }

    /// <summary>A ledger for one part of this request: it tells what that part alone needed, and notes everything here too.</summary>
    public PolicyLedger Child() => new(this);

    private sealed record Denial(string Policy, string? Reason);
}
