using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class OracleMaskTests
{
    [Theory]
    [InlineData("noisy", float.NaN)]
    [InlineData("clean", float.PositiveInfinity)]
    [InlineData("noise", float.NegativeInfinity)]
    public void Apply_NonFiniteSample_ThrowsNamingArrayIndexAndValue(string which, float value)
    {
        float[] clean = DenoisingFixtures.Tone(4000), noise = DenoisingFixtures.Noise(4000);
        float[] noisy = DenoisingFixtures.Add(clean, noise);
        float[] target = which switch { "noisy" => noisy, "clean" => clean, _ => noise };
        target[321] = value;

        var e = Assert.Throws<ArgumentException>(() => OracleMask.Apply(noisy, clean, noise, OracleMaskKind.IdealRatio));

        Assert.Equal(which, e.ParamName);
        Assert.Contains($"found {value} at index 321", e.Message);
    }

    [Fact]
    public void Apply_Empty_ThrowsNamingNoisy()
    {
        var e = Assert.Throws<ArgumentException>(() => OracleMask.Apply([], [], [], OracleMaskKind.PowerRatio));

        Assert.Equal("noisy", e.ParamName);
        Assert.Contains("Expected at least one sample; found an empty signal", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    [InlineData(512)]
    public void Apply_ShorterThanHalfAWindowWithoutNoise_ReturnsInput(int length)
    {
        float[] clean = DenoisingFixtures.Tone(length);

        float[] output = OracleMask.Apply(clean, clean, new float[length], OracleMaskKind.IdealRatio);

        // Zero-extended to 513 samples as the denoiser does; with no noise the mask is 1 and the input comes back.
        Assert.Equal(length, output.Length);
        Assert.True(DenoisingFixtures.MaxAbsDifference(clean, output) < 1e-4f);
    }

    [Fact]
    public void Apply_ShortInput_SameAsZeroExtendedInputCutBack()
    {
        float[] clean = DenoisingFixtures.Tone(300), noise = DenoisingFixtures.Noise(300, amplitude: 0.3);
        float[] noisy = DenoisingFixtures.Add(clean, noise);
        float[] Extend(float[] x) => [.. x, .. new float[DenoisingStft.HopLength + 1 - x.Length]];

        float[] shortOutput = OracleMask.Apply(noisy, clean, noise, OracleMaskKind.PowerRatio);
        float[] longOutput = OracleMask.Apply(Extend(noisy), Extend(clean), Extend(noise), OracleMaskKind.PowerRatio);

        Assert.Equal(longOutput[..300], shortOutput);
    }

    [Fact]
    public void Apply_UnequalLengths_ThrowsNamingAllThree()
    {
        float[] clean = DenoisingFixtures.Tone(4000), noise = DenoisingFixtures.Noise(4000);

        var e = Assert.Throws<ArgumentException>(() => OracleMask.Apply(DenoisingFixtures.Add(clean, noise), clean[..3999], noise, OracleMaskKind.PowerRatio));

        Assert.Contains("Expected equal lengths; found noisy 4000, clean 3999, noise 4000", e.Message);
        Assert.Equal("clean", e.ParamName);
        var noise2 = Assert.Throws<ArgumentException>(() => OracleMask.Apply(DenoisingFixtures.Add(clean, noise), clean, noise[..10], OracleMaskKind.PowerRatio));
        Assert.Equal("noise", noise2.ParamName);
    }

    [Fact]
    public void Apply_UndefinedKind_ThrowsNamingIt()
    {
        float[] clean = DenoisingFixtures.Tone(4000), noise = DenoisingFixtures.Noise(4000);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OracleMask.Apply(DenoisingFixtures.Add(clean, noise), clean, noise, (OracleMaskKind)7));

        Assert.Equal("kind", e.ParamName);
        Assert.Equal((OracleMaskKind)7, e.ActualValue);
        Assert.Contains("Expected IdealRatio or PowerRatio", e.Message);
    }
}
