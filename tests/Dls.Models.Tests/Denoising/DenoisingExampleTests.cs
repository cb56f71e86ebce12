using Dls.Audio.IO;
using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoisingExampleTests
{
    [Fact]
    public void Constructor_CleanShorterThanNoisy_ThrowsNamingLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenoisingExample("m.wav", new float[4000], new float[3000], null));

        Assert.Equal("Clean", e.ParamName);
        Assert.Contains("Example 'm.wav' has 3000 clean samples but 4000 noisy", e.Message);
    }

    [Fact]
    public void Constructor_NoiseOfOtherLength_ThrowsNamingLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenoisingExample("m.wav", new float[4000], new float[4000], new float[10]));

        Assert.Equal("Noise", e.ParamName);
        Assert.Contains("Example 'm.wav' has 10 noise samples but 4000 noisy", e.Message);
    }

    [Theory]
    [InlineData("Name")]
    [InlineData("Noisy")]
    [InlineData("Clean")]
    public void Constructor_NullPart_ThrowsArgumentNullNamingIt(string which)
    {
        var e = Assert.Throws<ArgumentNullException>(() => new DenoisingExample(
            which == "Name" ? null! : "m.wav",
            which == "Noisy" ? null! : new float[10],
            which == "Clean" ? null! : new float[10],
            null));

        Assert.Equal(which, e.ParamName);
    }

    [Fact]
    public void Constructor_ConsistentExampleWithoutNoise_KeepsArrays()
    {
        float[] noisy = DenoisingFixtures.Noise(100), clean = DenoisingFixtures.Tone(100);

        var example = new DenoisingExample("m.wav", noisy, clean, null);

        Assert.Same(noisy, example.Noisy);
        Assert.Same(clean, example.Clean);
        Assert.Null(example.Noise);
    }

    /// <summary>Writes the three files of a pair (16 kHz, float32 so that samples are kept as they are) and returns the pair.</summary>
    private static DenoisingPair WritePair(TempFolder temp, int noisy, int clean, int? noise)
    {
        WavFile.Write(temp.File("x.wav"), DenoisingFixtures.Noise(noisy), DenoisingFixtures.Rate, WavSampleFormat.Float32);
        WavFile.Write(temp.File("s.wav"), DenoisingFixtures.Tone(clean), DenoisingFixtures.Rate, WavSampleFormat.Float32);
        if (noise is { } n)
        {
            WavFile.Write(temp.File("n.wav"), DenoisingFixtures.Noise(n, 7), DenoisingFixtures.Rate, WavSampleFormat.Float32);
        }

        return new DenoisingPair("x.wav", temp.File("x.wav"), temp.File("s.wav"), noise is null ? null : temp.File("n.wav"));
    }

    [Fact]
    public void Load_EmptyMixture_ThrowsNamingIt()
    {
        using var temp = new TempFolder();
        DenoisingPair pair = WritePair(temp, 0, 0, null);

        var e = Assert.Throws<InvalidDataException>(() => DenoisingExample.Load(pair, DenoisingFixtures.Rate));

        Assert.Contains($"'{pair.MixturePath}' holds no samples (expected at least 1)", e.Message);
    }

    [Fact]
    public void Load_CleanOfOtherLength_ThrowsNamingBothFilesAndLengths()
    {
        using var temp = new TempFolder();
        DenoisingPair pair = WritePair(temp, 4000, 3000, null);

        var e = Assert.Throws<InvalidDataException>(() => DenoisingExample.Load(pair, DenoisingFixtures.Rate));

        Assert.Contains($"'{pair.CleanPath}' has 3000 samples but its mixture '{pair.MixturePath}' has 4000; a pair must have equal lengths", e.Message);
    }

    [Fact]
    public void Load_NoiseOfOtherLength_ThrowsNamingBothFilesAndLengths()
    {
        using var temp = new TempFolder();
        DenoisingPair pair = WritePair(temp, 4000, 4000, 4001);

        var e = Assert.Throws<InvalidDataException>(() => DenoisingExample.Load(pair, DenoisingFixtures.Rate));

        Assert.Contains($"'{pair.NoisePath}' has 4001 samples but its mixture '{pair.MixturePath}' has 4000; a pair must have equal lengths", e.Message);
    }

    [Fact]
    public void Load_ConsistentFiles_KeepsTheSamples()
    {
        using var temp = new TempFolder();
        DenoisingPair pair = WritePair(temp, 4000, 4000, 4000);

        DenoisingExample example = DenoisingExample.Load(pair, DenoisingFixtures.Rate);

        Assert.Equal(DenoisingFixtures.Noise(4000), example.Noisy);
        Assert.Equal(DenoisingFixtures.Tone(4000), example.Clean);
        Assert.Equal(DenoisingFixtures.Noise(4000, 7), example.Noise);
    }
}
