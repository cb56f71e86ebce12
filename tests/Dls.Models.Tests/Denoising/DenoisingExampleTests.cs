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
}
