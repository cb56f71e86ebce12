using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-atomic").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void WriteAll_LaterFileFails_NoTargetTouchedAndNoTemporaryLeft()
    {
        string a = Path.Combine(dir, "a.bin"), b = Path.Combine(dir, "b.json");
        File.WriteAllText(a, "old a");
        File.WriteAllText(b, "old b");

        var error = Assert.Throws<IOException>(() => AtomicFile.WriteAll([
            (a, s => s.Write("new a"u8)),
            (b, _ => throw new IOException("disk full")),
        ]));

        Assert.Equal("disk full", error.Message);
        Assert.Equal("old a", File.ReadAllText(a));   // the first file was written in full, but never renamed
        Assert.Equal("old b", File.ReadAllText(b));
        Assert.Equal(2, Directory.GetFiles(dir).Length);
    }

    [Fact]
    public void WriteAll_AllSucceed_ReplacesEveryTargetAndCreatesFolders()
    {
        string a = Path.Combine(dir, "a.bin"), b = Path.Combine(dir, "sub", "b.json");
        File.WriteAllText(a, "old a");

        AtomicFile.WriteAll([(a, s => s.Write("new a"u8)), (b, s => s.Write("new b"u8))]);

        Assert.Equal("new a", File.ReadAllText(a));
        Assert.Equal("new b", File.ReadAllText(b));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void WriteAll_SamePathTwice_ThrowsNamingItBeforeWriting()
    {
        string a = Path.Combine(dir, "a.bin");

        var error = Assert.Throws<ArgumentException>(() => AtomicFile.WriteAll([(a, s => s.WriteByte(1)), (Path.Combine(dir, ".", "a.bin"), s => s.WriteByte(2))]));

        Assert.Contains($"'{a}' is given twice", error.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Write_TargetIsAFolder_ThrowsSayingSoAndWritesNothing()
    {
        string folder = Path.Combine(dir, "out");
        Directory.CreateDirectory(folder);

        var error = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(folder, "x"));

        Assert.Equal($"Cannot write '{folder}': expected a file path, found a folder.", error.Message);
        Assert.Empty(Directory.GetFiles(dir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Write_FolderRefusesNewFiles_MessageNamesTheTargetNotTheTemporary()
    {
        // /proc exists on every Linux machine and refuses new files (also for root, where permissions would not).
        Assert.True(OperatingSystem.IsLinux(), "This test needs /proc (Linux), like the rest of the CI.");
        string target = "/proc/dls-atomic-test.wav";

        var error = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(target, "x"));

        Assert.StartsWith($"Cannot write '{target}': creating a file in '/proc' failed (", error.Message);
        Assert.DoesNotContain(".tmp", error.Message[..error.Message.IndexOf('(')]);
    }
}
