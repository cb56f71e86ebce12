using Dls.Audio.Resampling;
using Xunit.Abstractions;

namespace Dls.Audio.Tests.Resampling;

public sealed class ResamplerTests(ITestOutputHelper output)
{
    private static float[] Sine(double frequency, int rate, int n, double amplitude = 0.5) =>
        Enumerable.Range(0, n).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();

    private static double Rms(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return Math.Sqrt(sum / x.Length);
    }

    // Skip the filter's edge transients (≤ its half-length) when measuring steady-state amplitudes.
    private static double SteadyRms(float[] y) => Rms(y.AsSpan(y.Length / 4, y.Length / 2));

    [Theory]
    [InlineData(48000, 16000)]
    [InlineData(44100, 16000)]
    [InlineData(22050, 16000)]
    [InlineData(16000, 44100)]
    [InlineData(8000, 16000)]
    public void Process_SineBelowPointNineNyquist_AmplitudeWithinPointOneDb(int inRate, int outRate)
    {
        double nyquist = Math.Min(inRate, outRate) / 2.0;
        foreach (double fraction in new[] { 0.05, 0.5, 0.8, 0.85, 0.88, 0.9 })
        {
            double f = fraction * nyquist;
            float[] x = Sine(f, inRate, inRate / 2);
            float[] y = new Resampler(inRate, outRate).Process(x);

            double gainDb = 20 * Math.Log10(SteadyRms(y) / (0.5 / Math.Sqrt(2)));
            output.WriteLine($"{inRate}→{outRate}: {f:F0} Hz passes with {gainDb:F4} dB");
            // Issue 4: passband within 0.1 dB below 0.9 × the target Nyquist.
            Assert.True(Math.Abs(gainDb) <= 0.1, $"{inRate}→{outRate} Hz, sine at {f:F0} Hz: gain {gainDb:F4} dB");
        }
    }

    [Theory]
    [InlineData(48000, 16000)]
    [InlineData(44100, 16000)]
    [InlineData(44100, 22050)]
    public void Process_ContentAboveTargetNyquist_AttenuatedSixtyDb(int inRate, int outRate)
    {
        double targetNyquist = outRate / 2.0;
        foreach (double fraction in new[] { 1.0, 1.003, 1.01, 1.02, 1.05, 1.1, 1.3, 2.0 })
        {
            double f = fraction * targetNyquist;
            if (f >= inRate / 2.0)
            {
                continue;
            }

            float[] x = Sine(f, inRate, inRate / 2);
            float[] y = new Resampler(inRate, outRate).Process(x);

            double gainDb = 20 * Math.Log10(SteadyRms(y) / (0.5 / Math.Sqrt(2)));
            output.WriteLine($"{inRate}→{outRate}: {f:F0} Hz attenuated to {gainDb:F1} dB");
            // Issue 4: ≥ 60 dB attenuation above the target Nyquist.
            Assert.True(gainDb <= -60, $"{inRate}→{outRate} Hz, sine at {f:F0} Hz: gain {gainDb:F1} dB");
        }
    }

    [Theory]
    [InlineData(48000, 16000, 48000, 16000)]
    [InlineData(44100, 16000, 44101, 16000)]   // 16000.36 → 16000
    [InlineData(22050, 16000, 3, 2)]           // 2.18 → 2
    [InlineData(16000, 44100, 7, 19)]          // 19.29 → 19
    [InlineData(16000, 8000, 3, 2)]            // 1.5 → 2 (half rounds up)
    public void Process_Length_IsRoundedRatio(int inRate, int outRate, int n, int expected)
    {
        float[] y = new Resampler(inRate, outRate).Process(new float[n]);

        Assert.Equal(expected, y.Length);
        Assert.Equal(expected, Resampler.OutputLength(n, inRate, outRate));
    }

    [Fact]
    public void Resample_SameRate_ReturnsSameSignal()
    {
        var signal = new AudioSignal([0.1f, 0.2f], 16000);

        Assert.Same(signal, Resampler.Resample(signal, 16000));
    }

    [Fact]
    public void Constructor_BadRate_ArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(0, 16000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(16000, -1));
    }

    [Theory]
    [InlineData(2_000_000_000, 1)]
    [InlineData(100_001, 1)]
    [InlineData(2_000_000_000, 19_999)]
    public void Constructor_DownsamplingRatioBeyondLimit_ArgumentOutOfRangeWithLargestRatio(int inputRate, int outputRate)
    {
        // 2e9 → 1 Hz needs ~1e11 taps, which used to overflow int into a filter with no taps at all.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Resampler(inputRate, outputRate));

        Assert.Equal("inputRate", ex.ParamName);
        Assert.Contains($"at most {Resampler.MaxDownsamplingRatio}", ex.Message);
        Assert.Contains($"found {inputRate} Hz → {outputRate} Hz", ex.Message);
    }

    [Fact]
    public void Constructor_LargestDownsamplingRatio_BuildsFilter()
    {
        var resampler = new Resampler(Resampler.MaxDownsamplingRatio, 1);

        // Kaiser length (80 − 8) / (2.285 · π · 0.1 / ratio) ≈ 100.3 × ratio taps.
        Assert.InRange(resampler.TapsPerOutputSample, 100 * Resampler.MaxDownsamplingRatio, 101 * Resampler.MaxDownsamplingRatio);
    }
    [Fact]
    public void GetShared_SameRates_OneInstanceThatResamplesAsANewOne()
    {
        // Shared across calls (and threads: the instance is immutable); its output is a new resampler's to the bit.
        var first = Resampler.GetShared(44_100, 16_000);
        var again = Resampler.GetShared(44_100, 16_000);
        var back = Resampler.GetShared(16_000, 44_100);
        float[] x = Sine(440, 44_100, 5000);

        Assert.Same(first, again);
        Assert.NotSame(first, back);
        Assert.Equal((44_100, 16_000), (first.InputRate, first.OutputRate));
        Assert.Equal(new Resampler(44_100, 16_000).Process(x), first.Process(x));
        Assert.Equal(new Resampler(44_100, 16_000).Process(x), Resampler.Resample(x, 44_100, 16_000));
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => Resampler.GetShared(2_000_000_000, 1));
        Assert.Equal("inputRate", bad.ParamName);
    }

    [Fact]
    public void GetShared_ManyPairs_KeepsAtMostItsLimits()
    {
        // 16,001 → 16,000 Hz alone stores 1.6 M coefficients (16,000 phases); three such pairs pass the 4 M limit, and
        // 70 small pairs the 64-pair limit. Other tests may use the cache meanwhile; the limits hold whatever they add.
        for (int k = 0; k < 3; k++)
        {
            Resampler.GetShared(16_001 + k, 16_000);
            var (pairs, coefficients) = Resampler.SharedUsage;
            Assert.InRange(coefficients, 0, Resampler.MaxSharedCoefficients);
            Assert.InRange(pairs, 1, Resampler.MaxSharedPairs);
        }

        for (int k = 1; k <= 70; k++)
        {
            Assert.Equal(1000 * k, Resampler.GetShared(1000 * k, 16_000).InputRate);
            var (pairs, coefficients) = Resampler.SharedUsage;
            Assert.InRange(pairs, 1, Resampler.MaxSharedPairs);
            Assert.InRange(coefficients, 0, Resampler.MaxSharedCoefficients);
        }
    }
}
