using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

public sealed class ScratchFolderTests
{
    [Fact]
    public void Dispose_RemovesTheFolderAndWhatItHolds()
    {
        var scratch = ScratchFolder.Create("dls-scratch-");
        File.WriteAllText(scratch.PathFor("model.bin"), "weights");
        Directory.CreateDirectory(scratch.PathFor("sub"));

        scratch.Dispose();

        Assert.False(Directory.Exists(scratch.Path));
    }

    [Fact]
    public void Dispose_FolderAlreadyRemoved_DoesNotThrow()
    {
        // A task's scratch folder disposed while an exception unwinds must never throw over that exception, also when the
        // folder is gone already (removed by hand, or a second Dispose).
        var scratch = ScratchFolder.Create("dls-scratch-");
        Directory.Delete(scratch.Path);

        scratch.Dispose();
        scratch.Dispose();

        Assert.False(Directory.Exists(scratch.Path));
    }
}
