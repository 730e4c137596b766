namespace Hearth.Testing;

public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Hearth.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Hearth.sln not found above " + AppContext.BaseDirectory);
    }
}
