using System.Buffers;
using System.Net;

namespace Hearth.ServiceDefaults;

/// <summary>Why an outbound call gave no usable answer.</summary>
public enum OutboundFailure
{
    /// <summary>No connection, or the connection failed.</summary>
    Unreachable,

    /// <summary>No answer (or no more of it) within the timeout.</summary>
    TimedOut,

    /// <summary>The body is larger than the caller reads.</summary>
    TooLarge,

    /// <summary>The body ended before its end.</summary>
    CutOff,
}

/// <summary>An outbound call that gave no usable answer; the message never holds a URL, a token or a body.</summary>
public sealed class OutboundException(OutboundFailure failure, Exception? inner = null)
    : Exception(failure switch
    {
        OutboundFailure.Unreachable => "unreachable",
        OutboundFailure.TimedOut => "no answer in time",
        OutboundFailure.TooLarge => "answer too large",
        _ => "answer cut off",
    }, inner)
{
    public OutboundFailure Failure { get; } = failure;
}

/// <summary>An answer's status, and its body when the caller wanted it for that status.</summary>
public sealed record OutboundAnswer(HttpStatusCode Status, byte[]? Body);

/// <summary>
/// Every call Hearth makes to another server (the authorization server's protection API, the
/// FHIR server's Patient, stored-version and export-file reads) goes through here: a timeout
/// linked to the caller's cancellation, a bounded body, and one mapping of failures to
/// <see cref="OutboundException"/>. A cancellation by the caller stays an
/// <see cref="OperationCanceledException"/>.
/// </summary>
public static class OutboundHttp
{
    /// <summary>
    /// Sends <paramref name="request"/> and waits for the whole answer within
    /// <paramref name="timeout"/>; reads the body (at most <paramref name="maxBytes"/>) when
    /// <paramref name="readBody"/> says so for its status.
    /// </summary>
    /// <exception cref="OutboundException">Unreachable, timed out, too large, or cut off.</exception>
    public static async Task<OutboundAnswer> SendAsync(
        HttpClient http, HttpRequestMessage request, TimeSpan timeout, int maxBytes, Func<HttpStatusCode, bool> readBody, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!readBody(response.StatusCode))
            {
                return new OutboundAnswer(response.StatusCode, null);
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new OutboundException(OutboundFailure.TooLarge);
            }

            await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
            var body = await ReadAtMostAsync(stream, maxBytes, deadline.Token) ?? throw new OutboundException(OutboundFailure.TooLarge);
            return new OutboundAnswer(response.StatusCode, body);
        }
        catch (Exception e) when (Map(e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the answer once its headers arrived, for a body
    /// read as it streams (the caller disposes it); <paramref name="idle"/> cancels the wait.
    /// </summary>
    /// <exception cref="OutboundException">Unreachable or timed out.</exception>
    public static async Task<HttpResponseMessage> SendForStreamAsync(HttpClient http, HttpRequestMessage request, CancellationToken idle, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle);
        }
        catch (Exception e) when (Map(e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// The failure an exception of an outbound call means; null when it is not one (the caller
    /// cancelled, or a bug): such exceptions go on as they are.
    /// </summary>
    public static OutboundException? Map(Exception e, CancellationToken cancellationToken) => e switch
    {
        OutboundException known => known,
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new OutboundException(OutboundFailure.TimedOut, e),
        HttpRequestException => new OutboundException(OutboundFailure.Unreachable, e),
        IOException => new OutboundException(OutboundFailure.CutOff, e), // HttpIOException: the body ended early
        _ => null,
    };

    /// <summary>
    /// Reads a whole stream, but no more than <paramref name="maxBytes"/>: null when it is longer.
    /// Read through a pooled buffer (<see cref="ReadRentedAtMostAsync"/>), copied once into the result.
    /// </summary>
    public static async Task<byte[]?> ReadAtMostAsync(Stream stream, int maxBytes, CancellationToken cancellationToken, long? length = null)
    {
        if (await ReadRentedAtMostAsync(stream, maxBytes, cancellationToken, length) is not { } read)
        {
            return null;
        }

        var body = read.Rented.AsSpan(0, read.Length).ToArray();
        ArrayPool<byte>.Shared.Return(read.Rented);
        return body;
    }

    /// <summary>
    /// Reads a whole stream into an array rented from the shared pool (the caller returns it): no
    /// array per answer. Null when longer than <paramref name="maxBytes"/>.
    /// </summary>
    public static async ValueTask<(byte[] Rented, int Length)?> ReadRentedAtMostAsync(Stream stream, int maxBytes, CancellationToken cancellationToken, long? length = null)
    {
        // One byte more than announced, to see whether more comes.
        var buffer = ArrayPool<byte>.Shared.Rent(length is { } announced && announced < maxBytes ? (int)announced + 1 : 16 * 1024);
        var filled = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
                if (filled > maxBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }

                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return (buffer, filled);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
