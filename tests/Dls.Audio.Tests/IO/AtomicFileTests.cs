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

    [Fact]
    public void WriteAll_NoFiles_ArgumentExceptionFoundNone()
    {
        var ex = Assert.Throws<ArgumentException>(() => AtomicFile.WriteAll([]));

        Assert.Equal("files", ex.ParamName);
        Assert.Contains("Expected at least one file to write; found none", ex.Message);
    }

    [Fact]
    public void Write_NoPermissionToCreateInFolder_RefusalNamingTheTargetAndFolder()
    {
        // A folder without write permission refuses new files to everyone but root, who bypasses permissions. A writable
        // sysfs refuses them to root too (EACCES), so a run as root targets /sys instead. Where /sys is mounted read-only
        // (a container's default) the kernel answers EROFS instead: an IOException, which AtomicFile words the same way.
        Assert.True(OperatingSystem.IsLinux(), "This test needs Unix permissions and /sys (Linux), like the rest of the CI.");
        string folder = "/sys";
        if (!Environment.IsPrivilegedProcess && OperatingSystem.IsLinux())
        {
            folder = Path.Combine(dir, "locked");
            Directory.CreateDirectory(folder);
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        string target = Path.Combine(folder, "dls-atomic-test.wav");

        Exception? error = Record.Exception(() => AtomicFile.WriteAllText(target, "x"));

        Assert.False(File.Exists(target));
        if (Environment.IsPrivilegedProcess && error is IOException readOnly)
        {
            Assert.StartsWith($"Cannot write '{target}': creating a file in '{folder}' failed (", readOnly.Message);
            Assert.Contains("Read-only file system", readOnly.Message);
            Assert.IsAssignableFrom<IOException>(readOnly.InnerException);
            return;
        }

        var denied = Assert.IsType<UnauthorizedAccessException>(error);
        Assert.StartsWith($"Cannot write '{target}': no permission to create a file in '{folder}' (", denied.Message);
        Assert.DoesNotContain(".tmp", denied.Message[..denied.Message.IndexOf('(')]);
        Assert.IsType<UnauthorizedAccessException>(denied.InnerException);
    }

    [Fact]
    public void Write_FolderRemovedWhileWriting_TheWriteErrorPropagatesNotTheCleanupError()
    {
        // Deleting the temporary file then fails with DirectoryNotFoundException; the caller must see why the write failed.
        string folder = Path.Combine(dir, "vanishing");
        string target = Path.Combine(folder, "a.bin");

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s =>
        {
            s.WriteByte(1);
            Directory.Delete(folder, recursive: true);   // Linux keeps the open temporary file alive, unlinked
            throw new InvalidOperationException("encoder failed");
        }));

        Assert.Equal("encoder failed", error.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Write_TemporaryNameTakenByAFolderWhileWriting_TheWriteErrorPropagatesAndTargetUntouched()
    {
        // The temporary name now holds a non-empty folder, so deleting it as a file is refused (UnauthorizedAccessException);
        // cleanup is best effort and must not hide the write's own error.
        string target = Path.Combine(dir, "a.bin");
        File.WriteAllText(target, "old");
        string? temporary = null;

        var error = Assert.Throws<IOException>(() => AtomicFile.Write(target, s =>
        {
            temporary = ((FileStream)s).Name;
            File.Delete(temporary);
            Directory.CreateDirectory(temporary);
            File.WriteAllText(Path.Combine(temporary, "inside"), "x");
            throw new IOException("disk full");
        }));

        Assert.Equal("disk full", error.Message);
        Assert.Equal("old", File.ReadAllText(target));
        Assert.True(Directory.Exists(temporary));   // left behind: a hidden folder never mistaken for the target
    }

    [Fact]
    public void WriteAllText_NonAsciiText_Utf8WithoutByteOrderMark()
    {
        string path = Path.Combine(dir, "notes.txt");

        AtomicFile.WriteAllText(path, "Größe → 5 µs");

        // UTF-8 of ö (C3 B6), ß (C3 9F), → (E2 86 92) and µ (C2 B5); no EF BB BF in front.
        byte[] expected = [0x47, 0x72, 0xC3, 0xB6, 0xC3, 0x9F, 0x65, 0x20, 0xE2, 0x86, 0x92, 0x20, 0x35, 0x20, 0xC2, 0xB5, 0x73];
        Assert.Equal(expected, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
