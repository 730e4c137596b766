using Hearth.Grains.Abstractions;

namespace Hearth.Grains;

/// <summary>
/// Held in memory and kept active for a day: a silo that fails loses its exports (the client
/// starts again). A job can be started once; a second start under the same id is ignored.
/// </summary>
[Orleans.Placement.RandomPlacement]
internal sealed class ExportGrain : Grain, IExportGrain
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private ExportJob? _job;

    public Task StartAsync(ExportJob job)
    {
        if (_job is null)
        {
            _job = job;
            DelayDeactivation(Lifetime);
        }

        return Task.CompletedTask;
    }

    public Task<ExportJob?> GetAsync() => Task.FromResult(_job);

    public Task CompleteAsync(IReadOnlyList<ExportFile> files, string manifest)
    {
        if (_job is { Manifest: null })
        {
            _job = _job with { Files = files.ToArray(), Manifest = manifest };
        }

        return Task.CompletedTask;
    }

    public Task ForgetAsync()
    {
        _job = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
