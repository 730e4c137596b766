using Hearth.Authorization.Fhir;

namespace Hearth.Authorization.Tests.Fhir;

public class XmlShapeTests
{
    private static string Nested(int depth)
        => "<OperationOutcome xmlns=\"http://hl7.org/fhir\">" + string.Concat(Enumerable.Repeat("<extension url=\"urn:x\">", depth - 1))
           + string.Concat(Enumerable.Repeat("</extension>", depth - 1)) + "</OperationOutcome>";

    [Theory]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(101, false)]
    [InlineData(8000, false)] // 320 KB: this nesting overflowed Firely's deserializer and ended the process
    public void Check_Depth(int depth, bool accepted)
        => Assert.Equal(accepted, XmlShape.Check(Nested(depth)) is null);

    [Theory]
    [InlineData("<!DOCTYPE Patient [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&x;\"/></Patient>")]
    [InlineData("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"></Patient>")]
    [InlineData("not xml")]
    public void Check_DtdOrMalformed_Refused(string xml)
        => Assert.NotNull(XmlShape.Check(xml));
}
