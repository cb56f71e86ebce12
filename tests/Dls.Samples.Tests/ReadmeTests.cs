namespace Dls.Samples.Tests;

public sealed class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));

    [Fact]
    public void UseFromYourProject_ShowsTheProgramThePackageTestRuns()
    {
        // Compared line by line (trimmed) so indentation in the Markdown code block does not matter.
        foreach (string line in PackageConsumerTests.ReadmeProgram.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            Assert.Contains(line, Readme);
        }
    }

    [Fact]
    public void SetUp_NamesTheTwoCommandsCiRuns()
    {
        Assert.Contains("dotnet run -c Release --project samples/Dls.Samples -- reproduce", Readme);
        Assert.Contains("dotnet test Dls.sln -c Release", Readme);
        string ci = File.ReadAllText(Path.Combine(RepoPaths.Root, ".ci", "run"));
        Assert.Contains("dotnet test Dls.sln -c Release", ci);
    }
}
