using Hearth.Authorization.Policies;

namespace Hearth.Authorization.Tests.Policies;

/// <summary>
/// The ledger of one request and of a part of it judged on its own (an export file): the part's
/// ledger tells what that part alone needed, and everything it notes is the request's too.
/// </summary>
public class PolicyLedgerTests
{
    [Fact]
    public void Child_NotesGoToTheRequest_AndTellOnlyWhatThatPartNeeded()
    {
        var request = new PolicyLedger();
        var first = request.Child();
        var second = request.Child();

        first.GlassBroken();
        second.NoFurtherDisclosure();
        second.Denied(ConsentPolicy.PolicyName, "Consent/7 denies it");

        Assert.Equal((true, false, "token"), (first.BrokeTheGlass, first.MustNotDiscloseFurther, first.DecidingPolicy));
        Assert.Equal((false, true, "consent", "Consent/7 denies it"), (second.BrokeTheGlass, second.MustNotDiscloseFurther, second.DecidingPolicy, second.Reason));
        Assert.Equal((true, true, "consent", "Consent/7 denies it"), (request.BrokeTheGlass, request.MustNotDiscloseFurther, request.DecidingPolicy, request.Reason));
    }

    [Fact]
    public void Child_TheRequestKeepsItsFirstDenial()
    {
        var request = new PolicyLedger();
        request.Denied(ConsentPolicy.PolicyName, "Consent/1 denies it");
        var part = request.Child();
        part.Denied(ConsentPolicy.PolicyName, "Consent/2 denies it");

        Assert.Equal("Consent/2 denies it", part.Reason);
        Assert.Equal("Consent/1 denies it", request.Reason);
    }
}
