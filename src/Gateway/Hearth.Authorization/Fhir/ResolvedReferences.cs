namespace Hearth.Authorization.Fhir;

/// <summary>
/// What the gateway found out about the references a judgement needs: the patient each
/// "Patient/{id}" reference names, and the facts of each resource a Binary's securityContext
/// points at. Null: it could not be resolved (the resource is then denied).
/// </summary>
public sealed class ResolvedReferences(Func<string, ResolvedPatient?> patient, Func<string, ResourceFacts?>? context = null)
{
    public static ResolvedReferences None { get; } = new(_ => null);

    public ResolvedPatient? Patient(string reference) => patient(reference);

    public ResourceFacts? Context(string reference) => context?.Invoke(reference);

    public static ResolvedReferences From(IReadOnlyDictionary<string, ResolvedPatient?> patients, IReadOnlyDictionary<string, ResourceFacts?>? contexts = null)
        => new(r => patients.GetValueOrDefault(r), contexts is null ? null : r => contexts.GetValueOrDefault(r));
}
