namespace Hearth.Authorization.Requests;

public enum FhirFormat
{
    Json,
    Xml,

    /// <summary>The client accepts neither: 406.</summary>
    NotAcceptable,

    /// <summary>Contradictory request (several _format values): 400.</summary>
    Invalid,
}

/// <summary>
/// Which format the client gets: <c>_format</c> first (FHIR's rule), else <c>Accept</c> by quality,
/// JSON on a tie or a wildcard. Hearth always asks the FHIR server for JSON and judges JSON.
/// </summary>
public static class FormatNegotiation
{
    private static readonly string[] JsonTypes = ["json", "application/json", "application/fhir+json", "application/json+fhir"];
    private static readonly string[] XmlTypes = ["xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir"];

    /// <summary>
    /// The answer without negotiating, when there is nothing to weigh: no <c>_format</c> and no
    /// Accept, or one Accept value that is exactly a JSON type or <c>*/*</c> (most clients). Null
    /// when <see cref="Negotiate"/> must decide.
    /// </summary>
    public static FhirFormat? Plain(int formatParameters, int acceptHeaders, string? singleAccept)
    {
        if (formatParameters > 0 || acceptHeaders > 1)
        {
            return null;
        }

        return acceptHeaders == 0 || singleAccept is "*/*" || Array.IndexOf(JsonTypes, singleAccept) > 0 ? FhirFormat.Json : null;
    }

    public static FhirFormat Negotiate(IReadOnlyList<string> formatParameters, IEnumerable<string> acceptHeaders)
    {
        if (formatParameters.Count > 1)
        {
            return FhirFormat.Invalid;
        }

        if (formatParameters.Count == 1)
        {
            return Classify(formatParameters[0].Split(';')[0].Trim()) ?? FhirFormat.NotAcceptable;
        }

        double json = -1, xml = -1;
        var any = false;
        foreach (var item in acceptHeaders.SelectMany(h => h.Split(',')))
        {
            var parts = item.Split(';');
            var type = parts[0].Trim().ToLowerInvariant();
            if (type.Length == 0)
            {
                continue;
            }

            any = true;
            var quality = Quality(parts);
            if (quality <= 0)
            {
                continue;
            }

            switch (type is "*/*" or "application/*" ? FhirFormat.Json : type == "text/*" ? FhirFormat.Xml : Classify(type))
            {
                case FhirFormat.Json:
                    json = Math.Max(json, quality);
                    break;
                case FhirFormat.Xml:
                    xml = Math.Max(xml, quality);
                    break;
            }
        }

        if (!any)
        {
            return FhirFormat.Json;
        }

        if (json < 0 && xml < 0)
        {
            return FhirFormat.NotAcceptable;
        }

        return xml > json ? FhirFormat.Xml : FhirFormat.Json;
    }

    /// <summary>An Accept item's q parameter; 1 without one.</summary>
    private static double Quality(string[] parts)
    {
        var quality = 1.0;
        foreach (var parameter in parts.Skip(1))
        {
            var kv = parameter.Split('=', 2);
            if (kv.Length == 2 && kv[0].Trim() == "q" && double.TryParse(kv[1].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var q))
            {
                quality = q;
            }
        }

        return quality;
    }

    /// <summary>The format of a media type or _format value; null when it is neither JSON nor XML.</summary>
    public static FhirFormat? Classify(string mediaType)
    {
        var type = mediaType.Trim().ToLowerInvariant();
        return JsonTypes.Contains(type) ? FhirFormat.Json : XmlTypes.Contains(type) ? FhirFormat.Xml : null;
    }
}
