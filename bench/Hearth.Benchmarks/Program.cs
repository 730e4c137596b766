using BenchmarkDotNet.Running;
using Hearth.Benchmarks;

if (args is ["peak", ..])
{
    // Peak memory, not allocations: what judging a 5,000-entry search holds at once (bench/README.md).
    PeakMemory.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(CoreBenchmarks).Assembly).Run(args);
