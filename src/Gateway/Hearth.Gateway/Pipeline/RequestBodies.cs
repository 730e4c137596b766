using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Responses;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Pipeline;

internal static class RequestBodies
{
    /// <summary>
    /// Reads the request body (at most <paramref name="maxBytes"/>) and puts it back so that it is
    /// forwarded exactly as read. Null when it is larger.
    /// </summary>
    public static async Task<byte[]?> BufferAsync(HttpContext context, int maxBytes)
    {
        var http = context.Request;
        if (http.ContentLength > maxBytes)
        {
            return null;
        }

        if (await OutboundHttp.ReadAtMostAsync(http.Body, maxBytes, context.RequestAborted) is not { } body)
        {
            return null;
        }

        Replace(context, body, contentType: null);
        return body;
    }

    /// <summary>The refusal of a body over HEARTH_MAX_REQUEST_BYTES.</summary>
    public static Refusal TooLarge(GatewaySettings settings) => Refusal.Problem(413, "too-costly", $"The request body is larger than {settings.MaxRequestBytes} bytes.");

    /// <summary>
    /// A client's FHIR XML as the FHIR JSON Hearth judges and forwards; null with the refusal when
    /// it is not a valid FHIR XML resource (nesting is bounded before Firely reads it).
    /// </summary>
    public static byte[]? XmlToJson(byte[] xml, out Refusal? refusal)
    {
        refusal = null;
        try
        {
            return Encoding.UTF8.GetBytes(Formats.FhirFormats.XmlToJson(Encoding.UTF8.GetString(xml)));
        }
        catch (FormatException e)
        {
            refusal = Refusal.Problem(400, "structure", e.Message);
            return null;
        }
    }

    /// <summary>Makes <paramref name="body"/> the body that is forwarded (and its media type, when given).</summary>
    public static void Replace(HttpContext context, byte[] body, string? contentType)
    {
        var http = context.Request;
        http.Headers.Remove("Transfer-Encoding");
        http.Body = new MemoryStream(body, writable: false);
        http.ContentLength = body.Length;
        if (contentType is not null)
        {
            http.ContentType = contentType;
        }
    }
}
