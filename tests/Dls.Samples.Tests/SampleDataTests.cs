using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

public sealed class SampleDataTests
{
    [Fact]
    public void Resolve_NoDataOptionAndNoEmbeddedFolder_ThrowsNamingTheFolderExpected()
    {
        // The build copies samples/data/<area> next to the host; an area without such a folder is an incomplete output.
        string expected = Path.Combine(AppContext.BaseDirectory, "data", "no-such-area");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => SampleData.Resolve(null, "no-such-area"));
        Assert.Equal($"The embedded data for 'no-such-area' is missing: expected the folder '{expected}' (is the build output complete?).", ex.Message);
    }

    [Fact]
    public void Resolve_DataOptionNamingNothing_ThrowsNamingTheOptionAndTheFullPath()
    {
        using var dir = ScratchFolder.Create("dls-sample-data-");
        // A relative --data is resolved against the working folder: the message shows where it looked.
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, dir.PathFor("missing"));

        var ex = Assert.Throws<DirectoryNotFoundException>(() => SampleData.Resolve(relative, "mnist"));

        Assert.Equal($"--data: expected an existing folder, found nothing at '{dir.PathFor("missing")}'.", ex.Message);
    }

    [Fact]
    public void Resolve_NoDataOption_IsTheEmbeddedFolder()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "data", "speaker"), SampleData.Resolve(null, "speaker"));
    }
}
