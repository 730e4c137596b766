using Hearth.Grains.Abstractions;

namespace Hearth.Grains.Clients;

/// <summary>The authorization server could not be asked, or gave an answer Hearth cannot use.</summary>
public sealed class AuthorizationServerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
