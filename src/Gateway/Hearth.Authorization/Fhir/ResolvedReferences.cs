using Hearth.Authorization.Policies;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// What the gateway found out about the references a judgement needs: the patient each
/// "Patient/{id}" reference names, and the facts of each resource a Binary's securityContext
/// points at. Null: it could not be resolved (the resource is then denied).
/// </summary>
public sealed class ResolvedReferences
{
    private readonly Func<string, ResolvedPatient?>? _patient;
    private readonly Func<string, ResourceFacts?>? _context;
    private readonly IReadOnlyDictionary<string, ResolvedPatient?>? _patients;
    private readonly IReadOnlyDictionary<string, ResourceFacts?>? _contexts;

    public ResolvedReferences(Func<string, ResolvedPatient?> patient, Func<string, ResourceFacts?>? context = null)
    {
        _patient = patient;
        _context = context;
    }

    private ResolvedReferences(IReadOnlyDictionary<string, ResolvedPatient?>? patients, IReadOnlyDictionary<string, ResourceFacts?>? contexts)
    {
        _patients = patients;
        _contexts = contexts;
    }

    public static ResolvedReferences None { get; } = new((IReadOnlyDictionary<string, ResolvedPatient?>?)null, null);

    private IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>>? _consents;

    /// <summary>When the request is judged: what a Consent's periods are compared with.</summary>
    public DateTimeOffset Now { get; private set; }

    /// <summary>What the policies of this request's judgements found (consent denials, broken glass); null when nobody asks.</summary>
    public PolicyLedger? Ledger { get; private set; }

    /// <summary>
    /// The active privacy Consents of "Patient/{id}" (empty: none); null when they were not
    /// resolved (a resource of that patient is then denied by the Consent policy).
    /// </summary>
    public IReadOnlyList<ConsentDirective>? Consents(string patientReference) => _consents?.GetValueOrDefault(patientReference);

    /// <summary>The same references, with the patients' Consents, the time of the judgement and the request's ledger.</summary>
    public ResolvedReferences WithConsents(IReadOnlyDictionary<string, IReadOnlyList<ConsentDirective>> consents, DateTimeOffset now, PolicyLedger? ledger)
    {
        var copy = (ResolvedReferences)MemberwiseClone();
        copy._consents = consents;
        copy.Now = now;
        copy.Ledger = ledger;
        return copy;
    }

    public ResolvedPatient? Patient(string reference)
        => _patient is not null ? _patient(reference) : _patients?.GetValueOrDefault(reference);

    public ResourceFacts? Context(string reference)
        => _context is not null ? _context(reference) : _contexts?.GetValueOrDefault(reference);

    /// <summary>Looked up in the dictionaries themselves (no delegate made per judgement).</summary>
    public static ResolvedReferences From(IReadOnlyDictionary<string, ResolvedPatient?> patients, IReadOnlyDictionary<string, ResourceFacts?>? contexts = null)
        => new(patients, contexts);
}
