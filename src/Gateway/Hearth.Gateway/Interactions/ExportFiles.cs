using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hearth.Authorization.Configuration;
using Hearth.Authorization.Fhir;
using Hearth.Authorization.Permissions;
using Hearth.Authorization.Policies;
using Hearth.Authorization.Responses;
using Hearth.Gateway.Formats;
using Hearth.Gateway.Pipeline;
using Hearth.Gateway.Resolution;
using Hearth.Grains.Abstractions;
using Hearth.ServiceDefaults;

namespace Hearth.Gateway.Interactions;

/// <summary>
/// The FHIR server's export files, read as they stream, line by line, and judged in chunks of
/// <see cref="LinesPerChunk"/> lines or <see cref="BytesPerChunk"/> bytes, whichever comes first
/// (their patients resolved at once): how many lines the token may
/// have, and those lines (pointed at the gateway) for a download. A line that is not a FHIR
/// resource fails the whole file. With the Consent policy each file keeps a ledger of its own,
/// so its download is answered with what its lines need (break-the-glass, NOAUTH).
/// </summary>
internal sealed class ExportFiles(HearthSettings settings, ResponseFilter filter, Adjudicator adjudicator, ReferenceResolver resolver, IHttpClientFactory httpClients, TimeProvider time)
{
    private const int LinesPerChunk = 500;

    /// <summary>What one chunk may hold (each line may be up to the 64 MiB of a single answer, so a count alone does not bound it).</summary>
    private const int BytesPerChunk = 16 * 1024 * 1024;

    /// <summary>Judges the files at <paramref name="urls"/> as one; gives the permitted lines to <paramref name="write"/> (when given) and returns how many there are.</summary>
    /// <param name="ledger">With the Consent policy: this file's own ledger (a child of the request's), which tells what its lines needed (break-the-glass, NOAUTH).</param>
    public async Task<long> JudgeAsync(IReadOnlyList<string> urls, RequestState state, Func<ReadOnlyMemory<byte>, Task>? write, PolicyLedger? ledger, CancellationToken cancellationToken)
    {
        if (ledger is not null)
        {
            RequestState.JudgeThisFlowWith(ledger); // for this file's judgements only: the caller's flow keeps the request's ledger
        }

        long permitted = 0;
        var from = Encoding.UTF8.GetBytes(settings.FhirServer.Base);
        var to = Encoding.UTF8.GetBytes(state.PublicBase);
        var chunk = new List<(byte[] Line, ParsedResponse Parsed)>(LinesPerChunk);
        long chunkBytes = 0;
        async Task FlushAsync()
        {
            var kept = await JudgeChunkAsync(chunk, state, cancellationToken);
            permitted += kept.Count;
            if (write is not null && kept.Count > 0)
            {
                // The chunk's permitted lines, pointed at the gateway on the bytes, in one pooled buffer.
                using var buffer = new PooledBuffer(kept.Sum(line => line.Length + 1));
                foreach (var line in kept)
                {
                    UrlRewriter.Rewrite(line, from, to, buffer);
                    buffer.Write("\n"u8);
                }

                await write(buffer.WrittenMemory);
            }

            Release(chunk);
            chunkBytes = 0;
        }

        try
        {
            foreach (var url in urls)
            {
                await foreach (var line in LinesAsync(url, cancellationToken))
                {
                    var parsed = filter.Parse(line, judgeEntries: false) ?? throw new UpstreamException("A line of the export file is not a FHIR JSON resource.");
                    chunk.Add((line, parsed));
                    chunkBytes += line.Length;
                    if (chunk.Count == LinesPerChunk || chunkBytes >= BytesPerChunk)
                    {
                        await FlushAsync();
                    }
                }
            }

            if (chunk.Count > 0)
            {
                await FlushAsync();
            }

            return permitted;
        }
        finally
        {
            Release(chunk);
        }
    }

    /// <summary>
    /// What the manifest's judgement found its files needed, for the answer that serves them
    /// (the stored manifest, a file): break-the-glass (its Warning, its audit record's place held
    /// first) and NOAUTH's header, as a search's answer has them.
    /// </summary>
    public static void NoteObligations(RequestState state, IReadOnlyList<ExportFile> served)
    {
        if (state.Ledger is not { } ledger)
        {
            return;
        }

        if (served.Any(f => f.BreaksTheGlass))
        {
            ledger.GlassBroken();
        }

        if (served.Any(f => f.NoFurtherDisclosure))
        {
            ledger.NoFurtherDisclosure();
        }
    }

    /// <summary>
    /// Streams one of the manifest's files, every line judged again; nothing is sent after the
    /// token's exp, nor a line that needs what the answer's headers (sent before it) do not say:
    /// breaking the glass or NOAUTH the manifest's judgement did not find (a Consent or a label
    /// changed since): the download is cut off, and the client exports again.
    /// </summary>
    public Task DownloadAsync(RequestState state, ExportFile file, Stream body, CancellationToken cancellationToken)
    {
        var ledger = state.Ledger?.Child();
        return JudgeAsync(file.UpstreamUrls, state, async lines =>
        {
            if (state.ExpiresAt is { } exp && exp <= time.GetUtcNow())
            {
                throw new UpstreamException("The access token expired during the download.");
            }

            if (ledger is not null && ((ledger.BrokeTheGlass && !file.BreaksTheGlass) || (ledger.MustNotDiscloseFurther && !file.NoFurtherDisclosure)))
            {
                throw new UpstreamException("The export file now holds resources served only by breaking the glass or with the NOAUTH obligation, which its answer does not say; export again.");
            }

            await body.WriteAsync(lines, cancellationToken);
        }, ledger, cancellationToken);
    }

    /// <summary>
    /// The chunk's parsed lines go back to the pool once it is judged (not before: a SMART scope's
    /// condition reads a line's resource from its parsed document while the chunk is judged).
    /// </summary>
    private static void Release(List<(byte[] Line, ParsedResponse Parsed)> chunk)
    {
        foreach (var (_, parsed) in chunk)
        {
            parsed.Dispose();
        }

        chunk.Clear();
    }

    private async Task<List<byte[]>> JudgeChunkAsync(List<(byte[] Line, ParsedResponse Parsed)> chunk, RequestState state, CancellationToken cancellationToken)
    {
        var resolved = await resolver.ResolveAsync(chunk.Select(c => c.Parsed.RootFacts), cancellationToken);
        return chunk.Where(c => adjudicator.Judge(c.Parsed.RootFacts, resolved, state.Permissions, FhirAction.BulkExport).IsPermitted).Select(c => c.Line).ToList();
    }

    /// <summary>One file's non-empty lines, made valid Unicode; HEARTH_UPSTREAM_TIMEOUT_SECONDS for the answer to start, and again whenever it stalls.</summary>
    private async IAsyncEnumerable<byte[]> LinesAsync(string url, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+ndjson"));
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(settings.FhirServer.Timeout);
        using var response = await SendAsync(request, idle.Token, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentEncoding.Count > 0)
        {
            throw new UpstreamException($"The FHIR server answered {(int)response.StatusCode} for an export file.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(idle.Token);
        var lines = NdjsonLines.ReadAsync(stream, UpstreamAnswer.MaxBytes, idle.Token).GetAsyncEnumerator(idle.Token);
        try
        {
            while (await NextAsync(lines, cancellationToken))
            {
                idle.CancelAfter(settings.FhirServer.Timeout);
                yield return FhirJson.Sanitize(lines.Current);
            }
        }
        finally
        {
            await lines.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken idle, CancellationToken cancellationToken)
    {
        try
        {
            return await OutboundHttp.SendForStreamAsync(httpClients.CreateClient(StoredVersions.HttpClientName), request, idle, cancellationToken);
        }
        catch (OutboundException)
        {
            throw new UpstreamException("The FHIR server could not be asked for an export file.");
        }
    }

    private static async Task<bool> NextAsync(IAsyncEnumerator<byte[]> lines, CancellationToken cancellationToken)
    {
        try
        {
            return await lines.MoveNextAsync();
        }
        catch (Exception e) when (OutboundHttp.Map(e, cancellationToken) is not null)
        {
            throw new UpstreamException("The FHIR server's export file was cut off or stalled.");
        }
    }
}
