using System.Xml;

namespace Hearth.Authorization.Fhir;

/// <summary>
/// A look at XML before a recursive parser (Firely's) sees it: one streaming pass that refuses
/// DTDs and elements nested deeper than <see cref="MaxDepth"/> (thousands of levels overflow the
/// deserializer's stack and end the process).
/// </summary>
public static class XmlShape
{
    public const int MaxDepth = 100;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        MaxCharactersFromEntities = 0,
    };

    /// <summary>Null when the XML is well-formed and nested at most <see cref="MaxDepth"/> deep; else why not.</summary>
    public static string? Check(string xml)
    {
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), Settings);
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth >= MaxDepth)
                {
                    return $"The XML nests elements more than {MaxDepth} deep.";
                }
            }

            return null;
        }
        catch (XmlException)
        {
            return "The body is not well-formed XML (or has a DTD).";
        }
    }
}
