namespace Hearth.Gateway.Pipeline;

/// <summary>The FHIR server's answer (or a read Hearth needed from it) is unusable: 502, nothing unchecked passes.</summary>
internal sealed class UpstreamException(string message) : Exception(message);
