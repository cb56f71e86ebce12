using Dls.Audio.Levels;
using Dls.Audio.Metrics;

namespace Dls.Audio.Tests.Levels;

public sealed class LevelsTests
{
    private static float[] Sine(double amplitude, int n = 16000) =>
        Enumerable.Range(0, n).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * 100 * i / 16000.0))).ToArray();

    [Fact]
    public void FullScaleSine_PeakZeroRmsMinus3Dbfs()
    {
        float[] x = Sine(1.0);

        Assert.Equal(0, AudioLevels.PeakDbfs(x), 4);
        Assert.Equal(-3.0103, AudioLevels.RmsDbfs(x), 3); // 20·log10(1/√2)
    }

    [Fact]
    public void Silence_MinusInfinityDbfs_NormalizeRefuses()
    {
        float[] x = new float[10];

        Assert.Equal(double.NegativeInfinity, AudioLevels.PeakDbfs(x));
        Assert.Equal(double.NegativeInfinity, AudioLevels.RmsDbfs(x));
        Assert.Throws<ArgumentException>(() => AudioLevels.NormalizePeak(x));
        Assert.Throws<ArgumentException>(() => AudioLevels.NormalizeRms(x));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-20.0)]
    public void Normalize_ReachesTarget(double target)
    {
        float[] x = Sine(0.01);

        Assert.Equal(target, AudioLevels.PeakDbfs(AudioLevels.NormalizePeak(x, target)), 4);
        Assert.Equal(target, AudioLevels.RmsDbfs(AudioLevels.NormalizeRms(x, target)), 4);
    }

    [Theory]
    [InlineData(-5.0)]
    [InlineData(0.0)]
    [InlineData(10.0)]
    [InlineData(30.0)]
    public void MixAtSnr_ShortNoise_TiledAndSnrExact(double snr)
    {
        float[] speech = Sine(0.3);
        var random = new Random(5);
        float[] noise = Enumerable.Range(0, 3001).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        NoisyMixture mix = NoiseMixer.MixAtSnr(speech, noise, snr);

        Assert.Equal(speech.Length, mix.Mixture.Length);
        // mixture − speech is the scaled noise, so the assignment's SNR of the mixture is the target
        // (to float32 rounding of the sums: well under 1e-3 dB).
        Assert.Equal(snr, SignalMetrics.SnrDb(speech, mix.Mixture), 3);
        Assert.Equal(noise[5] * mix.NoiseGain, mix.ScaledNoise[3001 + 5], 5);
    }

    [Fact]
    public void MixAtSnr_SilentNoise_ArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => NoiseMixer.MixAtSnr(Sine(0.3, 100), new float[50], 5));

        Assert.Contains("silent", ex.Message);
    }
}
