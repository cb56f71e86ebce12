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
    [InlineData(100.0)]     // the speech's float32 rounding is ~−155 dB: still 1e-5 dB off at most
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

    [Fact]
    public void PeakAndRms_NaNSample_ArgumentExceptionWithIndex()
    {
        float[] x = Sine(0.5, 100);
        x[42] = float.NaN;

        var peak = Assert.Throws<ArgumentException>(() => AudioLevels.Peak(x));
        var rms = Assert.Throws<ArgumentException>(() => AudioLevels.RmsDbfs(x));

        Assert.Contains("Expected finite samples; found NaN at index 42 of 100", peak.Message);
        Assert.Contains("at index 42 of 100", rms.Message);
        Assert.Equal("samples", peak.ParamName);
    }

    [Fact]
    public void Normalize_InfiniteSample_ArgumentExceptionWithIndexNotNaNOutput()
    {
        float[] x = Sine(0.5, 100);
        x[7] = float.PositiveInfinity;

        var peak = Assert.Throws<ArgumentException>(() => AudioLevels.NormalizePeak(x));
        var rms = Assert.Throws<ArgumentException>(() => AudioLevels.NormalizeRms(x));

        Assert.Contains("Expected finite samples", peak.Message);
        Assert.Contains("at index 7 of 100", peak.Message);
        Assert.Contains("at index 7 of 100", rms.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Normalize_NonFiniteTarget_ArgumentOutOfRangeNamingValue(double target)
    {
        float[] x = Sine(0.5, 100);

        var peak = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.NormalizePeak(x, target));
        var rms = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.NormalizeRms(x, target));

        Assert.Equal("targetDbfs", peak.ParamName);
        Assert.Equal(target, peak.ActualValue);
        Assert.Contains("finite number of dBFS", peak.Message);
        Assert.Equal("targetDbfs", rms.ParamName);
    }

    [Fact]
    public void Scale_NonFiniteGainOrSample_Throws()
    {
        float[] x = Sine(0.5, 100);

        var nanGain = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.Scale(x, double.NaN));
        // Finite as a double, ∞ as the float32 factor actually applied.
        var hugeGain = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.Scale(x, 1e40));
        x[99] = float.NaN;
        var nanSample = Assert.Throws<ArgumentException>(() => AudioLevels.Scale(x, 2.0));

        Assert.Equal("gain", nanGain.ParamName);
        Assert.Contains("finite float32", nanGain.Message);
        Assert.Contains("found NaN", nanGain.Message);
        Assert.Equal(1e40, hugeGain.ActualValue);
        Assert.Contains("found NaN at index 99 of 100", nanSample.Message);
    }

    [Fact]
    public void MixAtSnr_NaNSpeech_ArgumentExceptionWithIndex()
    {
        float[] speech = Sine(0.3, 100);
        speech[13] = float.NaN;

        var ex = Assert.Throws<ArgumentException>(() => NoiseMixer.MixAtSnr(speech, Sine(0.1, 100), 5));

        Assert.Equal("speech", ex.ParamName);
        Assert.Contains("Expected finite speech samples; found NaN at index 13 of 100", ex.Message);
    }

    [Fact]
    public void MixAtSnr_InfiniteNoise_IndexIntoTheNoiseNotTheSegment()
    {
        float[] noise = Sine(0.1, 50);
        noise[3] = float.NegativeInfinity;

        // From offset 40 the segment reaches noise[3] after wrapping around, at segment index 13.
        var ex = Assert.Throws<ArgumentException>(() => NoiseMixer.MixAtSnr(Sine(0.3, 100), noise, 5, noiseOffset: 40));

        Assert.Equal("noise", ex.ParamName);
        Assert.Contains("Expected finite noise samples", ex.Message);
        Assert.Contains("at index 3 of 50", ex.Message);
    }

    private static double SnrOfScaledNoiseDb(float[] speech, float[] scaledNoise)
    {
        // From the noise as stored, not mixture − speech: at ±700 dB one of the two is below the other's float32 rounding.
        double s = 0, n = 0;
        for (int i = 0; i < speech.Length; i++)
        {
            s += (double)speech[i] * speech[i];
            n += (double)scaledNoise[i] * scaledNoise[i];
        }

        return 10 * Math.Log10(s / n);
    }

    [Theory]
    [InlineData(-1000.0)]
    [InlineData(1000.0)]
    public void MixAtSnr_TargetBeyondFloat32_ArgumentOutOfRangeWithRange(double snr)
    {
        // −1000 dB used to scale the noise to +∞, +1000 dB to flush it to 0 (a measured SNR of +∞, not the target).
        var random = new Random(8);
        float[] noise = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NoiseMixer.MixAtSnr(Sine(0.3, 1000), noise, snr));

        Assert.Equal("snrDb", ex.ParamName);
        Assert.Equal(snr, ex.ActualValue);
        Assert.Contains("For these signals the target SNR must be within [", ex.Message);
    }

    [Theory]
    [InlineData(-700.0)]
    [InlineData(700.0)]
    public void MixAtSnr_ExtremeTargetInsideRange_ScaledNoiseHitsTarget(double snr)
    {
        // For a 0.3 sine and noise in ±0.5 the accepted range is about −780..+750 dB; near its ends the scaled noise
        // is still normal float32, so its SNR is the target to float rounding (1e-3 dB is ~2e-4 relative in energy).
        var random = new Random(8);
        float[] speech = Sine(0.3, 1000);
        float[] noise = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        NoisyMixture mix = NoiseMixer.MixAtSnr(speech, noise, snr);

        Assert.Equal(snr, SnrOfScaledNoiseDb(speech, mix.ScaledNoise), 3);
        Assert.Equal(-1, SampleChecks.IndexOfNonFinite(mix.Mixture));
    }

    [Fact]
    public void Scale_ResultBeyondFloat32_ArgumentOutOfRangeWithIndex()
    {
        // Both the gain and the samples are finite; the product 1e30 × 1e30 is not.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.Scale([1f, 1e30f, 2f], 1e30));

        Assert.Equal("gain", ex.ParamName);
        Assert.Equal(1e30, ex.ActualValue);
        Assert.Contains("at index 1 of 3", ex.Message);
        Assert.Contains("beyond float32", ex.Message);
    }

    [Theory]
    [InlineData(10.0, 20.0)]
    [InlineData(100.0, 40.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(0.1, -20.0)]
    [InlineData(0.001, -60.0)]
    public void GainToDb_PowersOfTen_TwentyDbPerDecade(double gain, double decibels)
    {
        // 20·log10 of an exact decade; 0.1 and 0.001 are not exact doubles, hence the 1e-12 dB.
        Assert.Equal(decibels, AudioLevels.GainToDb(gain), 1e-12);
    }

    [Fact]
    public void GainToDb_DoubleAndSilence_SixDbAndMinusInfinity()
    {
        // 20·log10(2) = 6.0205999132796239…; a gain of 0 silences the signal: −∞ dB, as the documentation says.
        Assert.Equal(6.020599913279624, AudioLevels.GainToDb(2), 1e-12);
        Assert.Equal(double.NegativeInfinity, AudioLevels.GainToDb(0));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-1e-300)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.NaN)]
    public void GainToDb_NegativeOrNaN_ArgumentOutOfRangeNamingValue(double gain)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => AudioLevels.GainToDb(gain));

        Assert.Equal("gain", ex.ParamName);
        Assert.Equal(gain, ex.ActualValue);
        Assert.Contains("An amplitude gain must be zero or positive", ex.Message);
    }

    [Fact]
    public void Rms_EmptySignal_ArgumentExceptionFoundZero()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioLevels.Rms([]));

        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("The RMS of an empty signal is undefined; found 0 samples", ex.Message);
    }

    [Theory]
    [InlineData(0, 50, "found 0 and 50 samples")]
    [InlineData(100, 0, "found 100 and 0 samples")]
    public void MixAtSnr_EmptySpeechOrNoise_ArgumentExceptionWithBothLengths(int speechLength, int noiseLength, string found)
    {
        var ex = Assert.Throws<ArgumentException>(() => NoiseMixer.MixAtSnr(Sine(0.3, speechLength), Sine(0.1, noiseLength), 5));

        Assert.Contains("Speech and noise must be non-empty", ex.Message);
        Assert.Contains(found, ex.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void MixAtSnr_NonFiniteTarget_ArgumentOutOfRangeNamingValue(double snr)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NoiseMixer.MixAtSnr(Sine(0.3, 100), Sine(0.1, 50), snr));

        Assert.Equal("snrDb", ex.ParamName);
        Assert.Equal(snr, ex.ActualValue);
        Assert.Contains("The target SNR must be a finite number of dB", ex.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(50)]
    public void MixAtSnr_OffsetOutsideTheNoise_ArgumentOutOfRangeWithRange(int offset)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NoiseMixer.MixAtSnr(Sine(0.3, 100), Sine(0.1, 50), 5, offset));

        Assert.Equal("noiseOffset", ex.ParamName);
        Assert.Equal(offset, ex.ActualValue);
        Assert.Contains("The noise offset must be in 0..49", ex.Message);
    }

    [Fact]
    public void MixAtSnr_SilentSpeech_ArgumentExceptionNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => NoiseMixer.MixAtSnr(new float[100], Sine(0.1, 50), 5));

        Assert.Equal("speech", ex.ParamName);
        Assert.Contains("The speech is silent, so no noise level gives a finite SNR", ex.Message);
    }
}
