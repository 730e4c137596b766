using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// dotnet TraceReport.dll cpu|alloc <file.nettrace>
//   cpu:   the methods on the stack of samples taken while managed code ran (inclusive, then exclusive);
//          samples of waiting threads are left out, unlike dotnet-trace's own topN.
//   alloc: the sampled allocations (GC AllocationTick, ~every 100 KB) by type, by the first of
//          Hearth's methods on the stack, and by both.
var callersOf = args.Length == 3 ? args[2] : null; // cpu: who calls the methods whose name holds this text, and what runs under them
if (args is not [("cpu" or "alloc") and var mode, var file, ..])
{
    Console.Error.WriteLine("usage: TraceReport cpu|alloc <file.nettrace> [method text: its callers (cpu)]");
    return 2;
}

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(file));
var source = log.Events.GetSource();
var tables = new Dictionary<string, Dictionary<string, double>>();
double total = 0;
void Add(string table, string key, double amount)
{
    var rows = tables.TryGetValue(table, out var t) ? t : tables[table] = [];
    rows[key] = rows.GetValueOrDefault(key) + amount;
}

IEnumerable<string> Frames(TraceCallStack? stack)
{
    for (var s = stack; s is not null; s = s.Caller)
    {
        var name = s.CodeAddress.FullMethodName;
        yield return string.IsNullOrEmpty(name) ? s.CodeAddress.ModuleName + "!?" : name.Length > 150 ? name[..150] : name;
    }
}

if (mode == "cpu")
{
    source.AllEvents += e =>
    {
        // SampleProfiler's ThreadSample: payload 2 = the thread was running managed code.
        if (e.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || e.EventDataLength < 4 || BitConverter.ToInt32(e.EventData(), 0) != 2)
        {
            return;
        }

        total++;
        var frames = Frames(e.CallStack()).ToList();
        if (frames.Count > 0)
        {
            Add("exclusive", frames[0], 1);
        }

        foreach (var frame in frames.Distinct())
        {
            Add("inclusive", frame, 1);
        }

        var at = callersOf is null ? -1 : frames.FindIndex(f => f.Contains(callersOf, StringComparison.Ordinal));
        if (at >= 0)
        {
            Add("callers of " + callersOf, string.Join(" < ", frames.Skip(at + 1).Take(4).Select(f => f.Length > 70 ? f[..70] : f)), 1);
            Add("under " + callersOf + " (the method it called > the leaf)", (at > 0 ? frames[at - 1] : "(itself)") + " > " + frames[0], 1);
        }
    };
}
else
{
    source.Clr.GCAllocationTick += (GCAllocationTickTraceData e) =>
    {
        total += e.AllocationAmount64;
        var hearth = Frames(e.CallStack()).Take(60).FirstOrDefault(f => f.StartsWith("Hearth.", StringComparison.Ordinal)) ?? "(not under Hearth's code)";
        Add("by type", e.TypeName, e.AllocationAmount64);
        Add("by Hearth's first method on the stack", hearth, e.AllocationAmount64);
        Add("by type, under Hearth's method", e.TypeName + " @ " + hearth, e.AllocationAmount64);
        var frames = Frames(e.CallStack()).Take(60).ToList();
        var at = callersOf is null ? -1 : frames.FindIndex(f => f.Contains(callersOf, StringComparison.Ordinal));
        if (at >= 0)
        {
            Add("under " + callersOf + " (type < the frames above it)", e.TypeName + " < " + string.Join(" < ", frames.Take(at).TakeLast(3).Select(f => f.Length > 80 ? f[..80] : f)), e.AllocationAmount64);
        }
    };
}

source.Process();
Console.WriteLine(mode == "cpu" ? $"{total:N0} samples of running managed code" : $"{total / 1024:N0} KB of sampled allocations");
foreach (var (name, rows) in tables.OrderBy(t => t.Key, StringComparer.Ordinal))
{
    Console.WriteLine($"== {name} ==");
    foreach (var (key, amount) in rows.OrderByDescending(r => r.Value).Take(int.TryParse(Environment.GetEnvironmentVariable("TOP"), out var top) ? top : 40))
    {
        Console.WriteLine($"{amount * 100 / total,6:F1}% {key}");
    }
}

return 0;
