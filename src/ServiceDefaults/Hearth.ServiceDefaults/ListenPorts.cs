using System.Net;
using System.Net.Sockets;

namespace Hearth.ServiceDefaults;

/// <summary>
/// The silo's ports, checked before Orleans binds them: a .NET listener that asks for address
/// reuse gets SO_REUSEPORT on Linux, so a second silo could share a port another process already
/// listens on, without a word, and connections would reach either process.
/// </summary>
public static class ListenPorts
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <summary>True when another socket listens on <paramref name="port"/> where <paramref name="address"/> would listen (connections in TIME_WAIT do not count).</summary>
    public static bool InUse(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1)); // SO_REUSEADDR alone: not SO_REUSEPORT, which would let this bind share
        }
        else
        {
            socket.ExclusiveAddressUse = true;
        }

        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return true;
        }
    }

    /// <summary>A port no one listens on at <paramref name="address"/> now (the system's choice).</summary>
    public static int Free(IPAddress address)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// One line per port of <paramref name="ports"/> (setting name → port) that another process
    /// holds at <paramref name="address"/>, naming the setting that moves it; empty when all are free.
    /// </summary>
    public static IReadOnlyList<string> Taken(IPAddress address, params (string Setting, int Port)[] ports)
        => ports.Where(p => InUse(address, p.Port))
            .Select(p => $"{p.Setting}: port {p.Port} on {address} is already in use by another process; set {p.Setting} to a free port.")
            .ToList();
}
