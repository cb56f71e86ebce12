using Dls.Models.Denoising;
using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

[Collection("TorchGlobalState")]
public sealed class DenoisingTrainingProblemTests
{
    private static (DenoisingTrainingProblem Problem, IReadOnlyList<DenoisingExample> Validation) Problem(DenoisingLoss loss)
    {
        var mixer = new OnTheFlyMixer([DenoisingFixtures.Tone(12000, 1), DenoisingFixtures.Tone(12000, 2)], [DenoisingFixtures.Noise(8000, 3)]);
        var rng = new Random(1);
        var validation = new[] { mixer.Mix(rng), mixer.Mix(rng) };
        var options = new DenoisingTrainingOptions { BatchSize = 2, BatchesPerEpoch = 2, MaxSegmentSamples = 4096, Loss = loss };
        return (new DenoisingTrainingProblem([], mixer, validation, options), validation);
    }

    [Theory]
    [InlineData(DenoisingLoss.Magnitude)]
    [InlineData(DenoisingLoss.WaveformSnr)]
    [InlineData(DenoisingLoss.WaveformSiSdr)]
    public void Loss_TinyBatch_FiniteAndGivesGradients(DenoisingLoss kind)
    {
        (DenoisingTrainingProblem problem, _) = Problem(kind);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        DenoisingBatch batch = problem.TrainBatches(0, new Random(2)).First();
        using var scope = NewDisposeScope();

        Tensor loss = problem.Loss(model, batch);
        loss.backward();

        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.Contains(model.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.Equal(2, problem.CountSamples(batch));
    }

    private static float[][] Rows(int count, int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToArray();
    }

    // 1e-3 dB: the tensors sum 4,000 float32 products per row (relative error ~1e-6, a few 1e-6 dB), the metric sums in
    // double, and the loss adds 1e-8 to energies of ~300; anything of the size of a formula error is far above it.
    [Fact]
    public void WaveformLosses_MatchTheArrayMetrics()
    {
        float[][] clean = Rows(3, 4000, 1);
        float[][] noise = Rows(3, 4000, 2);
        float[][] estimate = clean.Select((c, i) => c.Select((v, k) => (0.7f * v) + (0.3f * noise[i][k])).ToArray()).ToArray();
        using var scope = NewDisposeScope();
        Tensor s = tensor(clean.SelectMany(r => r).ToArray(), [3, 4000]);
        Tensor e = tensor(estimate.SelectMany(r => r).ToArray(), [3, 4000]);

        float[] siSdr = DenoisingTrainingProblem.SiSdrDb(s, e).data<float>().ToArray();
        float[] snr = DenoisingTrainingProblem.SnrDb(s, e).data<float>().ToArray();
        float[] siSdrScaled = DenoisingTrainingProblem.SiSdrDb(s, e.mul(3)).data<float>().ToArray();

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Dls.Audio.Metrics.SignalMetrics.SiSdrDb(clean[i], estimate[i]), siSdr[i], 1e-3);
            Assert.Equal(Dls.Audio.Metrics.SignalMetrics.SnrDb(clean[i], estimate[i]), snr[i], 1e-3);
            // Scale invariance: a gain on the estimate leaves SI-SDR alone (SNR would drop by many dB).
            Assert.Equal(siSdr[i], siSdrScaled[i], 1e-3);
        }
    }

    [Fact]
    public void SiSdrDb_SilentReference_FiniteNotNaN()
    {
        using var scope = NewDisposeScope();
        Tensor value = DenoisingTrainingProblem.SiSdrDb(zeros(1, 1000), ones(1, 1000));

        Assert.True(float.IsFinite(value.item<float>()), $"found {value.item<float>()}");
    }

    [Fact]
    public void Fit_OneEpoch_ReportsSnrImprovementMetric()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8));

        TrainingResult result = new Trainer(new TrainerOptions { Epochs = 1, MonitorMetric = DenoisingTrainingProblem.SnrImprovementMetric, HigherIsBetter = true }).Fit(model, problem);

        Assert.True(double.IsFinite(result.History[0].Metrics[DenoisingTrainingProblem.SnrImprovementMetric]));
    }

    [Fact]
    public void Loss_NotAMaskNetwork_ThrowsNamingType()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = nn.Linear(3, 3);
        DenoisingBatch batch = problem.TrainBatches(0, new Random(2)).First();

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Contains("found Linear", e.Message);
    }

    private static DenoisingExample Pair(string name, int length = 2000, int seed = 1)
    {
        float[] clean = DenoisingFixtures.Tone(length, seed), noise = DenoisingFixtures.Noise(length, seed + 1);
        return new DenoisingExample(name, DenoisingFixtures.Add(clean, noise), clean, noise);
    }

    [Fact]
    public void Constructor_FixedPairCleanShorterThanNoisy_ThrowsNamingPairAndLengths()
    {
        // `with` skips the record's constructor, so an inconsistent example can still reach the problem.
        DenoisingExample bad = Pair("bad.wav") with { Clean = new float[1500] };

        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([Pair("a.wav"), bad], null, [Pair("v.wav")]));

        Assert.Equal("fixedPairs", e.ParamName);
        Assert.Contains("Fixed pair 1 ('bad.wav')", e.Message);
        Assert.Contains("1500 clean samples but 2000 noisy", e.Message);
    }

    [Fact]
    public void Constructor_ValidationPairOfUnequalLengths_ThrowsNamingPairAndLengths()
    {
        DenoisingExample bad = Pair("bad.wav", 4000) with { Clean = DenoisingFixtures.Tone(2000) };

        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([Pair("a.wav")], null, [Pair("v.wav"), bad]));

        Assert.Equal("validation", e.ParamName);
        Assert.Contains("Validation pair 1 ('bad.wav')", e.Message);
        Assert.Contains("2000 clean samples but 4000 noisy", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Constructor_NullPair_ThrowsNamingListAndIndex(bool inFixed)
    {
        DenoisingExample[] withNull = [Pair("a.wav"), null!];

        var e = Assert.Throws<ArgumentException>(() => inFixed
            ? new DenoisingTrainingProblem(withNull, null, [Pair("v.wav")])
            : new DenoisingTrainingProblem([Pair("a.wav")], null, withNull));

        Assert.Equal(inFixed ? "fixedPairs" : "validation", e.ParamName);
        Assert.Contains($"{(inFixed ? "Fixed" : "Validation")} pair 1 is null", e.Message);
    }

    [Fact]
    public void Constructor_FixedPairWithNaN_ThrowsNamingSample()
    {
        DenoisingExample bad = Pair("nan.wav");
        bad.Noisy[123] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([bad], null, [Pair("v.wav")]));

        Assert.Equal("fixedPairs", e.ParamName);
        Assert.Contains("Fixed pair 0 ('nan.wav') has a non-finite noisy sample (NaN) at index 123", e.Message);
    }

    [Fact]
    public void Constructor_SilentValidationClean_ThrowsNamingPair()
    {
        float[] noise = DenoisingFixtures.Noise(2000);
        var silent = new DenoisingExample("silent.wav", noise, new float[2000], noise);

        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([Pair("a.wav")], null, [silent]));

        Assert.Equal("validation", e.ParamName);
        Assert.Contains("Validation pair 0 ('silent.wav') has a silent (all-zero) clean signal", e.Message);
    }

    [Fact]
    public void Loss_EmptyBatch_ThrowsNamingCount()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, new DenoisingBatch([], [])));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains("found 0", e.Message);
    }

    [Fact]
    public void Loss_RaggedRows_ThrowsNamingRowAndLength()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        var batch = new DenoisingBatch([new float[2000], new float[1500]], [new float[2000], new float[2000]]);

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains("Noisy row 1 has 1500 samples", e.Message);
        Assert.Contains("row 0 has 2000", e.Message);
    }

    [Fact]
    public void Loss_CleanCountDiffersFromNoisy_ThrowsNamingCounts()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.WaveformSnr);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        var batch = new DenoisingBatch([new float[2000], new float[2000]], [new float[2000]]);

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Contains("1 clean row(s) for 2 noisy", e.Message);
    }

    [Fact]
    public void CountSamples_NullNoisy_ThrowsArgumentException()
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);

        var e = Assert.Throws<ArgumentException>(() => problem.CountSamples(new DenoisingBatch(null!, [new float[2000]])));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains("Noisy is null", e.Message);
    }

    [Fact]
    public void Validate_UndefinedLoss_ThrowsNamingLoss()
    {
        var options = new DenoisingTrainingOptions { Loss = (DenoisingLoss)9 };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Loss must be Magnitude, WaveformSnr or WaveformSiSdr (found 9)", e.Message);
    }

    [Fact]
    public void Validate_EveryNumberOutOfRange_NamesEachFieldAndValue()
    {
        var options = new DenoisingTrainingOptions { BatchSize = 0, BatchesPerEpoch = -1, MaxSegmentSamples = 1023, FixedPairShare = 1.5 };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Invalid DenoisingTrainingOptions: BatchSize must be > 0 (found 0); BatchesPerEpoch must be > 0 (found -1); " +
            "MaxSegmentSamples must be ≥ 1024 (found 1023); FixedPairShare must be in [0, 1] (found 1.5).", e.Message);
    }

    [Fact]
    public void Validate_NaNShare_NamesIt()
    {
        var e = Assert.Throws<ArgumentException>(new DenoisingTrainingOptions { FixedPairShare = double.NaN }.Validate);

        Assert.Contains("FixedPairShare must be in [0, 1] (found NaN)", e.Message);
    }

    [Fact]
    public void Constructor_NeitherFixedPairsNorMixer_ThrowsSayingSo()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([], null, [Pair("v.wav")]));

        Assert.Equal("fixedPairs", e.ParamName);
        Assert.Contains("Expected fixed pairs, a mixer, or both; found neither", e.Message);
    }

    [Fact]
    public void Constructor_NoValidationPair_ThrowsSayingSo()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenoisingTrainingProblem([Pair("a.wav")], null, []));

        Assert.Equal("validation", e.ParamName);
        Assert.Contains("Expected at least one validation pair; found 0", e.Message);
    }

    [Theory]
    [InlineData("Noisy")]
    [InlineData("Clean")]
    public void Loss_NullRow_ThrowsNamingPartAndRow(string part)
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        float[][] full = [new float[2000], new float[2000]], withNull = [new float[2000], null!];
        var batch = part == "Noisy" ? new DenoisingBatch(withNull, full) : new DenoisingBatch(full, withNull);

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains($"Expected equal-length rows; {part} row 1 is null", e.Message);
    }

    [Theory]
    [InlineData(512)]
    [InlineData(0)]
    public void Loss_RowsOfHalfAWindowOrLess_ThrowsNamingLength(int length)
    {
        (DenoisingTrainingProblem problem, _) = Problem(DenoisingLoss.Magnitude);
        using var model = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        var batch = new DenoisingBatch([new float[length]], [new float[length]]);

        var e = Assert.Throws<ArgumentException>(() => problem.Loss(model, batch));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains($"Expected rows of more than 512 samples; found {length}", e.Message);
    }
}
