namespace Hearth.Grains.Abstractions;

/// <summary>
/// One bulk export Hearth started, keyed by the random id in its gateway URLs: who started it (the
/// hash of the token, never the token), where the FHIR server reports its status, and, once Hearth
/// has judged the FHIR server's files, its files and the manifest it answers with. Only the token
/// that started an export may poll, cancel or download it.
/// </summary>
[Alias("Hearth.IExportGrain")]
public interface IExportGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task StartAsync(ExportJob job);

    /// <summary>The job, or null when there is none under this id (never started, cancelled or forgotten).</summary>
    [Alias("Get")]
    Task<ExportJob?> GetAsync();

    /// <summary>Keeps the judged files and the manifest built from them (the first one set stands).</summary>
    [Alias("Complete")]
    Task CompleteAsync(IReadOnlyList<ExportFile> files, string manifest);

    [Alias("Forget")]
    Task ForgetAsync();
}

/// <summary>
/// One file of the manifest Hearth answers with: every FHIR server file of one type (or every
/// error file), judged as one, and how many lines the token may have of it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Hearth.ExportFile")]
public sealed record ExportFile(
    [property: Id(0)] string Type,
    [property: Id(1)] IReadOnlyList<string> UpstreamUrls,
    [property: Id(2)] long Count)
{
    /// <summary>Whether the token had some of its lines only by breaking the glass (purpose BTG past a patient's Consent): its download is served as such.</summary>
    [Id(3)]
    public bool BreaksTheGlass { get; init; }

    /// <summary>Whether some of its lines carry the NOAUTH obligation: its download is served with the obligation's header.</summary>
    [Id(4)]
    public bool NoFurtherDisclosure { get; init; }
}

[GenerateSerializer, Immutable, Alias("Hearth.ExportJob")]
public sealed record ExportJob(
    [property: Id(0)] string OwnerTokenHash,
    [property: Id(1)] string StatusUrl)
{
    /// <summary>The files of the judged manifest, in its order (empty until it is built).</summary>
    [Id(3)]
    public IReadOnlyList<ExportFile> Files { get; init; } = [];

    /// <summary>The manifest Hearth answers with once the export is complete (null until then).</summary>
    [Id(4)]
    public string? Manifest { get; init; }
}
