// Peak memory of the export download (bench/README.md): dotnet run -c Release --project bench/ExportPeak
await Hearth.Bench.ExportPeak.RunAsync();
