namespace Hearth.Authorization.Requests;

/// <summary>
/// The classifier's answer: a <see cref="FhirRequest"/>, or a refusal with the HTTP status, the
/// OperationOutcome issue code and a sentence for the client.
/// </summary>
public sealed record Classification(FhirRequest? Request, int Status, string IssueCode, string Diagnostics)
{
    public bool IsRefused => Request is null;

    public static Classification Accept(FhirRequest request) => new(request, 200, "", "");

    public static Classification Refuse(int status, string issueCode, string diagnostics) => new(null, status, issueCode, diagnostics);
}
