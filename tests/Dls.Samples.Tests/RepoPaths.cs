namespace Dls.Samples.Tests;

/// <summary>Locates the repository from the test's output folder (tests run from tests/*/bin/&lt;config&gt;/net10.0).</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dls.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Expected Dls.sln in a parent folder of {AppContext.BaseDirectory}, found none.");
    }
}
