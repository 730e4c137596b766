using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Hearth.Components.Tests;

/// <summary>
/// The rules of <c>architecture.json</c>: what each project may reference (read from the compiled
/// assemblies' metadata, so that no using directive or transitive package slips by), and the sizes
/// of files, methods and constructors in <c>src/</c>.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly JsonObject Rules = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "architecture.json")))!.AsObject();

    public static TheoryData<string> Assemblies => new(Rules["assemblies"]!.AsObject().Select(a => a.Key));

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Assembly_ReferencesOnlyWhatItMay(string assembly)
    {
        var rule = Rules["assemblies"]![assembly]!;
        var forbidden = rule["mayNotReference"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var (references, _) = Read(assembly);
        var broken = references.Where(r => forbidden.Any(f => Matches(r, f))).ToList();
        Assert.True(broken.Count == 0, $"{assembly} ({rule["is"]}) references {string.Join(", ", broken)}");
    }

    [Fact]
    public void Core_UsesNoIo()
    {
        var forbidden = Rules["assemblies"]!["Hearth.Authorization"]!["mayNotUseTypes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var (_, used) = Read("Hearth.Authorization");
        var broken = used.Where(u => forbidden.Any(f => u == f || u.StartsWith(f + ".", StringComparison.Ordinal))).Distinct().ToList();
        Assert.True(broken.Count == 0, "Hearth.Authorization uses " + string.Join(", ", broken));
    }

    [Fact]
    public void TheRulesSeeWhatTheyCheck()
    {
        // The reader works: the gateway does reference ASP.NET and YARP, the core its own types.
        Assert.Contains(Read("Hearth.Gateway").References, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Contains("Yarp.ReverseProxy", Read("Hearth.Gateway").References);
        Assert.Contains(Read("Hearth.Grains").Used, u => u.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.True(Matches("Microsoft.AspNetCore.Http", "Microsoft.AspNetCore*") && !Matches("Hearth.Grains.Abstractions", "Hearth.Grains"));

        // The method reader finds methods whose signature wraps, and measures their bodies.
        var outbound = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "src/ServiceDefaults/Hearth.ServiceDefaults/OutboundHttp.cs"));
        Assert.Contains(Methods(outbound), m => m.Signature.Contains("SendAsync(", StringComparison.Ordinal) && m.Lines > 15);
        Assert.Contains(Methods(outbound), m => m.Signature.Contains("ReadRentedAtMostAsync(", StringComparison.Ordinal) && m.Lines > 10);
    }

    [Fact]
    public void SourceFiles_AtMostMaxLines()
    {
        var max = Rules["sizes"]!["maxFileLines"]!.GetValue<int>();
        var broken = SourceFiles().Select(f => (f.Path, Lines: File.ReadAllLines(f.Full).Length)).Where(f => f.Lines > max).ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken.Select(b => $"{b.Path}: {b.Lines} lines (max {max})")));
    }

    [Fact]
    public void Methods_AtMostMaxLines()
    {
        var max = Rules["sizes"]!["maxMethodLines"]!.GetValue<int>();
        var broken = SourceFiles()
            .SelectMany(f => Methods(File.ReadAllLines(f.Full)).Where(m => m.Lines > max).Select(m => $"{f.Path}:{m.Line} {m.Signature}: {m.Lines} lines (max {max})"))
            .ToList();
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void Classes_AtMostMaxConstructorDependencies()
    {
        var max = Rules["sizes"]!["maxConstructorDependencies"]!.GetValue<int>();
        var broken = new List<string>();
        foreach (var name in new[] { "Hearth.Authorization", "Hearth.Gateway", "Hearth.Grains", "Hearth.Silo", "Hearth.ServiceDefaults" })
        {
            var assembly = System.Reflection.Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
            foreach (var type in assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && !IsRecord(t) && !t.Name.Contains('<', StringComparison.Ordinal)))
            {
                var dependencies = type.GetConstructors().Select(c => c.GetParameters().Length).DefaultIfEmpty(0).Max();
                if (dependencies > max)
                {
                    broken.Add($"{type.FullName}: {dependencies} constructor parameters (max {max})");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    /// <summary>The assembly's references, and every type and member it uses from other assemblies ("Namespace.Type" and "Namespace.Type.Member").</summary>
    private static (IReadOnlyList<string> References, IReadOnlyList<string> Used) Read(string assembly)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var references = reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).ToList();
        var used = new List<string>();
        foreach (var handle in reader.TypeReferences)
        {
            used.Add(TypeName(reader, handle));
        }

        foreach (var handle in reader.MemberReferences)
        {
            var member = reader.GetMemberReference(handle);
            if (member.Parent.Kind == HandleKind.TypeReference)
            {
                used.Add(TypeName(reader, (TypeReferenceHandle)member.Parent) + "." + reader.GetString(member.Name));
            }
        }

        return (references, used);
    }

    private static string TypeName(MetadataReader reader, TypeReferenceHandle handle)
    {
        var type = reader.GetTypeReference(handle);
        var name = reader.GetString(type.Name);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? TypeName(reader, (TypeReferenceHandle)type.ResolutionScope) + "+" + name
            : reader.GetString(type.Namespace) + "." + name;
    }

    /// <summary>Each method's first line, signature and body length (the lines between its braces).</summary>
    private static IEnumerable<(int Line, string Signature, int Lines)> Methods(string[] lines)
    {
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            var signature = MethodStart().Match(lines[i]);
            if (!signature.Success)
            {
                continue;
            }

            // The signature may wrap: its body opens on the line after the one that closes it.
            var indent = signature.Groups["indent"].Value;
            var open = Enumerable.Range(i + 1, Math.Min(6, lines.Length - i - 1)).FirstOrDefault(j => lines[j] == indent + "{" && lines[j - 1].TrimEnd().EndsWith(')'), -1);
            if (open < 0 || lines.Skip(i).Take(open - i).Any(l => l.TrimEnd().EndsWith(';')))
            {
                continue;
            }

            var end = Array.IndexOf(lines, indent + "}", open + 1);
            if (end > 0)
            {
                yield return (i + 1, lines[i].Trim(), end - open - 1);
            }
        }
    }

    private static bool Matches(string name, string pattern)
        => pattern.EndsWith('*') ? name.StartsWith(pattern[..^1], StringComparison.Ordinal) : name == pattern;

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null;

    private static IEnumerable<(string Path, string Full)> SourceFiles()
    {
        var exempt = Rules["sizes"]!["exempt"]!.AsObject().Select(e => e.Key).ToHashSet();
        var src = Path.Combine(RepositoryPaths.Root, "src");
        return Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Select(full => (Path: Path.GetRelativePath(RepositoryPaths.Root, full).Replace('\\', '/'), Full: full))
            .Where(f => !f.Path.Contains("/obj/", StringComparison.Ordinal) && !f.Path.Contains("/bin/", StringComparison.Ordinal) && !exempt.Contains(f.Path));
    }

    /// <summary>The first line of a method, constructor or local function (not a statement).</summary>
    [GeneratedRegex(@"^(?<indent> +)(?!(if|for|foreach|while|switch|using|lock|catch|return|else|do|try|fixed|await|var|throw|new)\b)(?:[\w<>\[\]?,. ]|\([\w<>\[\]?, ]+\))*\b\w+(<[\w, <>]+>)?\(")]
    private static partial Regex MethodStart();
}
