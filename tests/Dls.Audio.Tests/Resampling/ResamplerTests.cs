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
    public void GetShared_AResamplerForTheRatesThatResamplesAsANewOne()
    {
        // The shared cache is process-wide (other test classes use it meanwhile), so sameness and eviction are tested on
        // private caches below; here, what any caller gets.
        var shared = Resampler.GetShared(44_100, 16_000);
        float[] x = Sine(440, 44_100, 5000);

        Assert.Equal((44_100, 16_000), (shared.InputRate, shared.OutputRate));
        Assert.Equal(new Resampler(44_100, 16_000).Process(x), shared.Process(x));
        Assert.Equal(new Resampler(44_100, 16_000).Process(x), Resampler.Resample(x, 44_100, 16_000));
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => Resampler.GetShared(2_000_000_000, 1));
        Assert.Equal("inputRate", bad.ParamName);
        Assert.Contains("must be at most 100000", bad.Message);
    }

    [Fact]
    public void ResamplerCache_KeepsThePairsUsedLast()
    {
        var cache = new ResamplerCache(maxPairs: 3, maxCoefficients: long.MaxValue);
        var a = cache.Get(44_100, 16_000);
        var b = cache.Get(16_000, 44_100);
        var c = cache.Get(48_000, 16_000);

        Assert.Same(a, cache.Get(44_100, 16_000));   // a is now the most recent, b the least
        cache.Get(22_050, 16_000);                    // a fourth pair: b goes

        Assert.Equal(3, cache.Usage.Pairs);
        Assert.Same(a, cache.Get(44_100, 16_000));
        Assert.Same(c, cache.Get(48_000, 16_000));
        Assert.NotSame(b, cache.Get(16_000, 44_100));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Get(0, 16_000));
        Assert.Equal(3, cache.Usage.Pairs);          // a refused pair is not kept

        // Pairs being built count against the limit too: with one slot, a pair asked for while another is being built
        // (here from inside that build) replaces it; both callers still get their resampler.
        ResamplerCache? one = null;
        var seen = new List<int>();
        Resampler Build(int input, int output)
        {
            seen.Add(one!.Usage.Pairs);   // while this pair is built (44.1 kHz: alone; 48 kHz: the 44.1-kHz one too)
            if (input == 44_100)
            {
                Assert.Equal(48_000, one.Get(48_000, 16_000).InputRate);
            }

            return new Resampler(input, output);
        }

        one = new ResamplerCache(maxPairs: 1, maxCoefficients: long.MaxValue, Build);
        Assert.Equal(44_100, one.Get(44_100, 16_000).InputRate);
        Assert.Equal([1, 1], seen);
        Assert.Equal(1, one.Usage.Pairs);
    }

    [Fact]
    public void ResamplerCache_KeepsWithinItsCoefficientBudget()
    {
        // Filters of rates with a long common period store up to 2^21 coefficients (16,001 → 16,000 Hz: 16,000 phases).
        long big = new Resampler(16_001, 16_000).StoredCoefficients;
        long small = new Resampler(48_000, 16_000).StoredCoefficients;
        Assert.InRange(new Resampler(8_000, 16_000).StoredCoefficients, 1, small);
        Assert.InRange(big, 1_000_000, 1 << 21);
        var cache = new ResamplerCache(maxPairs: 64, maxCoefficients: big + small);

        var first = cache.Get(48_000, 16_000);
        cache.Get(16_001, 16_000);
        Assert.Equal((2, big + small), cache.Usage);
        cache.Get(8_000, 16_000);                    // over the budget: the least recently used (48 → 16 kHz) goes

        Assert.Equal(2, cache.Usage.Pairs);
        Assert.InRange(cache.Usage.Coefficients, 0, big + small);
        Assert.NotSame(first, cache.Get(48_000, 16_000));

        var tight = new ResamplerCache(maxPairs: 64, maxCoefficients: small);
        var kept = tight.Get(48_000, 16_000);
        tight.Get(16_001, 16_000);                   // alone over the budget: handed out, not kept, and nothing dropped for it
        Assert.Equal((1, small), tight.Usage);
        Assert.Same(kept, tight.Get(48_000, 16_000));
    }

    [Fact]
    public void ResamplerCache_ManyThreadsAskingForOnePair_GetOneInstance()
    {
        var cache = new ResamplerCache(maxPairs: 4, maxCoefficients: long.MaxValue);
        var got = new Resampler[8];

        Parallel.For(0, got.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => got[i] = cache.Get(16_001, 16_000));

        Assert.All(got, r => Assert.Same(got[0], r));
        Assert.Equal(1, cache.Usage.Pairs);
    }

    [Fact]
    public void Process_OutputLongerThanAnArray_ArgumentExceptionBeforeAllocating()
    {
        // 1 Hz → 1 MHz: 2,200 samples become 2,200,000,000, above Array.MaxLength (2,147,483,591). The filter of this
        // ratio is computed per output sample (a phase table would hold 10^6 phases), so building it costs nothing.
        var resampler = new Resampler(1, 1_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<ArgumentException>(() => resampler.Process(new float[2200]));

        Assert.Equal("input", ex.ParamName);
        Assert.Contains("Resampling 2200 samples would give 2200000000, more than one array holds", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "more than 1 MiB allocated before refusing");
    }

    [Fact]
    public void ResamplerCache_BuildFails_RethrowsTheErrorAndBuildsAfreshNextTime()
    {
        // Lazy<T> caches a failure: a pair kept after one would fail every later call with the same stale exception.
        var failure = new OutOfMemoryException("no room for the filter");
        int builds = 0;
        var cache = new ResamplerCache(maxPairs: 4, maxCoefficients: long.MaxValue, (input, output) =>
            ++builds == 1 ? throw failure : new Resampler(input, output));

        var ex = Assert.Throws<OutOfMemoryException>(() => cache.Get(48_000, 16_000));

        Assert.Same(failure, ex);
        Assert.Equal((0, 0L), cache.Usage);           // the failed pair is not kept
        Resampler built = cache.Get(48_000, 16_000);
        Assert.Equal((48_000, 16_000), (built.InputRate, built.OutputRate));
        Assert.Equal(2, builds);
        Assert.Equal(1, cache.Usage.Pairs);
    }

    [Fact]
    public void ResamplerCache_BuildFailsAfterItsPairWasReplaced_RethrowsAndKeepsTheNewPair()
    {
        // With one slot, a pair asked for during a build replaces the pair being built; when that build then fails,
        // dropping the failed pair must leave the newer one alone.
        ResamplerCache? cache = null;
        Resampler? inner = null;
        var failure = new InvalidOperationException("filter design failed");
        cache = new ResamplerCache(maxPairs: 1, maxCoefficients: long.MaxValue, (input, output) =>
        {
            if (input == 44_100)
            {
                inner = cache!.Get(48_000, 16_000);
                throw failure;
            }

            return new Resampler(input, output);
        });

        var ex = Assert.Throws<InvalidOperationException>(() => cache.Get(44_100, 16_000));

        Assert.Same(failure, ex);
        Assert.Equal(1, cache.Usage.Pairs);
        Assert.Same(inner, cache.Get(48_000, 16_000));
    }
}
