namespace Hearth.Authorization.Policies;

/// <summary>
/// What the policy chain found while one request was judged, for its audit record, its metrics
/// and its answer: how many resources a patient's Consent denied (the deciding policy), and whether
/// a permit for purpose BTG passed a Consent's deny (break-the-glass). Judgements of one request
/// may run in parallel: counted atomically.
/// </summary>
public sealed class PolicyLedger
{
    private int _consentDenials;
    private int _brokeTheGlass;

    public int ConsentDenials => Volatile.Read(ref _consentDenials);

    public bool BrokeTheGlass => Volatile.Read(ref _brokeTheGlass) != 0;

    public void ConsentDenied() => Interlocked.Increment(ref _consentDenials);

    public void GlassBroken() => Interlocked.Exchange(ref _brokeTheGlass, 1);
}
