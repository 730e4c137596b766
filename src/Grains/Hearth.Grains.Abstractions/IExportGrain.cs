namespace Hearth.Grains;

/// <summary>
/// One bulk export Hearth started, keyed by the random id in its gateway URLs: who started it (the
/// hash of the token, never the token), where the FHIR server reports its status, and the files
/// of its manifest. Only the token that started an export may poll, cancel or download it.
/// </summary>
[Alias("Hearth.IExportGrain")]
public interface IExportGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task StartAsync(ExportJob job);

    /// <summary>The job, or null when there is none under this id (never started, cancelled or forgotten).</summary>
    [Alias("Get")]
    Task<ExportJob?> GetAsync();

    [Alias("SetFiles")]
    Task SetFilesAsync(IReadOnlyList<string> fileUrls);

    [Alias("Forget")]
    Task ForgetAsync();
}

[GenerateSerializer, Immutable, Alias("Hearth.ExportJob")]
public sealed record ExportJob(
    [property: Id(0)] string OwnerTokenHash,
    [property: Id(1)] string StatusUrl,
    [property: Id(2)] IReadOnlyList<string> FileUrls);
