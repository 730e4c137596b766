using System.Net;
using System.Net.Sockets;

namespace Hearth.Testing;

public static class TestPorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A loopback port free at the time of asking, and never one this process was given before: the
    /// system may hand the same free port to two askings in a row (a silo once got it for both of its ports).
    /// </summary>
    public static int Free()
    {
        lock (Given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>
    /// A port held by a listener of this (another) process on <paramref name="address"/>, with address
    /// reuse as every .NET listener on Linux has: a Hearth process told to use it must refuse it.
    /// </summary>
    public static HeldPort Hold(IPAddress address)
    {
        var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        holder.Bind(new IPEndPoint(address, 0));
        holder.Listen();
        return new HeldPort(holder);
    }
}

/// <summary>A port another process listens on, until disposed.</summary>
public sealed class HeldPort(Socket holder) : IDisposable
{
    public int Port { get; } = ((IPEndPoint)holder.LocalEndPoint!).Port;

    public void Dispose() => holder.Dispose();
}
