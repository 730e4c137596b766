using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

/// <summary>What a reference names on the FHIR server: every form Hearth resolves, and every form it refuses to vouch for.</summary>
public class PatientReferenceTests
{
    private const string Base = "http://fhir.example/r4";
    private const string Gateway = "https://gw.example/fhir";

    [Theory]
    [InlineData("Patient/p1", ReferenceKind.Patient, "Patient/p1")]
    [InlineData("Patient/p1/_history/2", ReferenceKind.Patient, "Patient/p1")]
    [InlineData(Base + "/Patient/p1", ReferenceKind.Patient, "Patient/p1")]
    [InlineData(Base + "/Patient/p1/_history/7", ReferenceKind.Patient, "Patient/p1")]
    [InlineData(Gateway + "/Patient/p1", ReferenceKind.Patient, "Patient/p1")]
    [InlineData("Patient/A-1.b", ReferenceKind.Patient, "Patient/A-1.b")]
    [InlineData("Observation/o1", ReferenceKind.NotPatient, null)]
    [InlineData(Base + "/Observation/o1/_history/1", ReferenceKind.NotPatient, null)]
    [InlineData("Foo/1", ReferenceKind.Unresolvable, null)]
    [InlineData("patient/p1", ReferenceKind.Unresolvable, null)]
    [InlineData("http://other.example/r4/Patient/p1", ReferenceKind.Unresolvable, null)]
    [InlineData(Base + "Patient/p1", ReferenceKind.Unresolvable, null)]
    [InlineData(Base, ReferenceKind.Unresolvable, null)]
    [InlineData(Base + "/", ReferenceKind.Unresolvable, null)]
    [InlineData("urn:uuid:0b5f3c3e-0000-0000-0000-000000000000", ReferenceKind.Unresolvable, null)]
    [InlineData("#p1", ReferenceKind.Unresolvable, null)]
    [InlineData("/Patient/p1", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient//p1", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/_history", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/_history/", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/_history/2/3", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/_version/2", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p 1", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/_history/a b", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/p1/x/y/z/w", ReferenceKind.Unresolvable, null)]
    [InlineData("Patient/0123456789012345678901234567890123456789012345678901234567890123", ReferenceKind.Patient, "Patient/0123456789012345678901234567890123456789012345678901234567890123")]
    [InlineData("Patient/01234567890123456789012345678901234567890123456789012345678901234", ReferenceKind.Unresolvable, null)]
    public void Classify(string reference, ReferenceKind kind, string? patient)
    {
        Assert.Equal(kind, PatientReference.Classify(reference, Base, out var found, Gateway));
        Assert.Equal(patient, found);
    }

    [Theory]
    [InlineData("Observation/o1/_history/3", "Observation", "o1")]
    [InlineData(Gateway + "/Binary/b", "Binary", "b")]
    public void TryRelative_TypeAndId(string reference, string type, string id)
    {
        Assert.True(PatientReference.TryRelative(reference, Base, out var foundType, out var foundId, Gateway));
        Assert.Equal((type, id), (foundType, foundId));
    }
}
