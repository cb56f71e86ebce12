using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class AudioFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-audiofile").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void ListWavFiles_AnyLetterCase_ListedSortedAndOthersLeftOut()
    {
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        foreach (string name in new[] { "b.wav", "A.WAV", "c.Wav", "notes.txt", "d.wav.bak", Path.Combine("sub", "e.wav") })
        {
            File.WriteAllText(Path.Combine(dir, name), "");
        }

        Assert.Equal(new[] { "A.WAV", "b.wav", "c.Wav" }, AudioFile.ListWavFiles(dir).Select(Path.GetFileName));
        Assert.Equal(new[] { "A.WAV", "b.wav", "c.Wav", Path.Combine("sub", "e.wav") },
            AudioFile.ListWavFiles(dir, recursive: true).Select(f => Path.GetRelativePath(dir, f)));
    }
}
