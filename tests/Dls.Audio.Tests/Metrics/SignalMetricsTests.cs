using Dls.Audio.Metrics;

namespace Dls.Audio.Tests.Metrics;

public sealed class SignalMetricsTests
{
    private static readonly System.Text.Json.JsonElement Reference = TestData.Json("reference", "snr.json");

    [Theory]
    [InlineData("estimate", "snr_db", "si_sdr_db")]
    [InlineData("estimate2", "snr2_db", "si_sdr2_db")]
    public void SnrAndSiSdr_ReferenceSignals_MatchNumpy(string estimateKey, string snrKey, string siSdrKey)
    {
        float[] clean = Reference.GetProperty("clean").Floats();
        float[] estimate = Reference.GetProperty(estimateKey).Floats();

        // The reference used float64 signals; ours are the same values rounded to float32 (relative 6e-8 each),
        // which moves a 20 dB ratio by far less than 1e-4 dB.
        Assert.Equal(Reference.GetProperty(snrKey).GetDouble(), SignalMetrics.SnrDb(clean, estimate), 1e-4);
        Assert.Equal(Reference.GetProperty(siSdrKey).GetDouble(), SignalMetrics.SiSdrDb(clean, estimate), 1e-4);
    }

    [Fact]
    public void SnrDb_KnownRatio_ExactValue()
    {
        // s = [1, 1], error = [0.1, 0.1]: 10·log10(2 / 0.02) = 20 dB.
        Assert.Equal(20, SignalMetrics.SnrDb([1f, 1f], [0.9f, 0.9f]), 5);
    }

    [Fact]
    public void SiSdrDb_ScaledEstimate_InvariantToScale()
    {
        float[] clean = Reference.GetProperty("clean").Floats();
        float[] estimate = Reference.GetProperty("estimate").Floats();
        float[] scaled = estimate.Select(v => v * 0.25f).ToArray();

        Assert.Equal(SignalMetrics.SiSdrDb(clean, estimate), SignalMetrics.SiSdrDb(clean, scaled), 6);
    }

    [Fact]
    public void IdenticalSignals_PositiveInfinity()
    {
        float[] x = [0.1f, -0.2f, 0.3f];

        Assert.Equal(double.PositiveInfinity, SignalMetrics.SnrDb(x, x));
        Assert.Equal(double.PositiveInfinity, SignalMetrics.SiSdrDb(x, x));
        Assert.Equal(SignalMetrics.DefaultSegmentMaxDb, SignalMetrics.SegmentalSnrDb(x, x));
    }

    [Fact]
    public void SilentReference_DocumentedResults()
    {
        float[] silent = new float[4];
        float[] noise = [0.1f, 0, 0, 0];

        Assert.Equal(double.NegativeInfinity, SignalMetrics.SnrDb(silent, noise));
        Assert.Throws<ArgumentException>(() => SignalMetrics.SiSdrDb(silent, noise));
        Assert.Throws<ArgumentException>(() => SignalMetrics.SnrDb(silent, silent));
        Assert.Equal(SignalMetrics.DefaultSegmentMinDb, SignalMetrics.SegmentalSnrDb(silent, noise));
    }

    [Fact]
    public void LengthMismatch_ArgumentExceptionWithLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => SignalMetrics.SnrDb([1f, 2f], [1f]));

        Assert.Contains("2 and 1", ex.Message);
        Assert.Throws<ArgumentException>(() => SignalMetrics.SiSdrDb([1f, 2f], [1f]));
        Assert.Throws<ArgumentException>(() => SignalMetrics.SegmentalSnrDb([1f, 2f], [1f]));
    }

    [Fact]
    public void NonFiniteOrEmpty_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => SignalMetrics.SnrDb([1f, float.NaN], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => SignalMetrics.SnrDb([], []));
    }

    [Fact]
    public void SegmentalSnrDb_ClampsEachFrame()
    {
        // Frame 1 perfect (clamped to 35), frame 2 at exactly 0 dB error = signal (0 dB): mean 17.5.
        float[] clean = [.. Enumerable.Repeat(0.5f, 4), .. Enumerable.Repeat(0.5f, 4)];
        float[] estimate = [.. Enumerable.Repeat(0.5f, 4), .. Enumerable.Repeat(0f, 4)];

        Assert.Equal(17.5, SignalMetrics.SegmentalSnrDb(clean, estimate, frameLength: 4), 9);
    }

    [Fact]
    public void EnhancementReport_ImprovementIsOutputMinusInput()
    {
        float[] clean = Reference.GetProperty("clean").Floats();
        float[] noisy = Reference.GetProperty("estimate2").Floats();
        float[] enhanced = Reference.GetProperty("estimate").Floats();

        EnhancementReport report = EnhancementMetrics.Evaluate(clean, noisy, enhanced);

        Assert.Equal(Reference.GetProperty("snr2_db").GetDouble(), report.InputSnrDb, 1e-4);
        Assert.Equal(Reference.GetProperty("snr_db").GetDouble(), report.OutputSnrDb, 1e-4);
        Assert.Equal(report.OutputSiSdrDb - report.InputSiSdrDb, report.SiSdrImprovementDb, 12);
        Assert.Equal(report.SnrImprovementDb, report.ToDictionary()["snr_imp"]);
        Assert.Equal(report.InputSiSdrDb, report.ToDictionary()["input_si_sdr"]);
    }

    [Fact]
    public void EnhancementReport_PerfectInputAndOutput_ZeroImprovementNotNaN()
    {
        float[] x = [0.1f, 0.2f, -0.3f];

        EnhancementReport report = EnhancementMetrics.Evaluate(x, x, x);

        Assert.Equal(0, report.SnrImprovementDb);
        Assert.Equal(0, report.SiSdrImprovementDb);
    }

    [Theory]
    [InlineData(10.0, 10.0)]
    [InlineData(35.0, -10.0)]
    [InlineData(double.NaN, 35.0)]
    public void SegmentalSnrDb_MinNotBelowMax_ArgumentExceptionWithBoth(double minDb, double maxDb)
    {
        var ex = Assert.Throws<ArgumentException>(() => SignalMetrics.SegmentalSnrDb([0.5f, 0.1f], [0.4f, 0.1f], 2, minDb, maxDb));

        Assert.Equal("minDb", ex.ParamName);
        Assert.Contains($"minDb must be below maxDb; found {minDb} and {maxDb}", ex.Message);
    }

    [Fact]
    public void SegmentalSnrDb_EveryFrameSilentInBoth_ArgumentException()
    {
        // Reference and error are zero in every frame: no frame has an SNR, so there is nothing to average.
        var ex = Assert.Throws<ArgumentException>(() => SignalMetrics.SegmentalSnrDb(new float[10], new float[10], frameLength: 4));

        Assert.Equal("reference", ex.ParamName);
        Assert.Contains("every frame is silent in both the reference and the error", ex.Message);
    }

    [Theory]
    [InlineData(2, 3, 3, "found 2, 3 and 3 samples")]
    [InlineData(3, 2, 3, "found 3, 2 and 3 samples")]
    [InlineData(3, 3, 4, "found 3, 3 and 4 samples")]
    public void Evaluate_LengthsDiffer_ArgumentExceptionWithAllThree(int clean, int noisy, int enhanced, string found)
    {
        var ex = Assert.Throws<ArgumentException>(() => EnhancementMetrics.Evaluate(new float[clean], new float[noisy], new float[enhanced]));

        Assert.Contains("Clean, noisy and enhanced must have the same length", ex.Message);
        Assert.Contains(found, ex.Message);
    }
}
