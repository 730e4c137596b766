using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hearth.Benchmarks.CoreBenchmarks).Assembly).Run(args);
