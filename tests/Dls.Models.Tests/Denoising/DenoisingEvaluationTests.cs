using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoisingEvaluationTests
{
    private static DenoisingExample Example(string name, float[]? clean = null)
    {
        float[] c = clean ?? DenoisingFixtures.Tone(4000, 1), n = DenoisingFixtures.Noise(c.Length, 2);
        return new DenoisingExample(name, DenoisingFixtures.Add(c, n), c, n);
    }

    [Fact]
    public void Evaluate_DenoiserReturnsNull_ThrowsNamingExample()
    {
        DenoisingExample[] examples = [Example("a.wav"), Example("b.wav")];

        var e = Assert.Throws<InvalidOperationException>(() => DenoisingEvaluation.Evaluate(examples, x => ReferenceEquals(x, examples[1].Noisy) ? null! : x));

        Assert.Contains("The denoiser returned null for example 'b.wav' (index 1); expected 4000 samples.", e.Message);
    }

    [Fact]
    public void Evaluate_DenoiserReturnsNaN_ThrowsNamingExampleAndSample()
    {
        var e = Assert.Throws<InvalidOperationException>(() => DenoisingEvaluation.Evaluate([Example("a.wav")], x =>
        {
            float[] y = (float[])x.Clone();
            y[17] = float.NaN;
            return y;
        }));

        Assert.Contains("non-finite sample (NaN) at index 17 for 'a.wav'", e.Message);
    }

    [Fact]
    public void Evaluate_SilentCleanReference_ThrowsNamingExample()
    {
        DenoisingExample[] examples = [Example("ok.wav"), Example("silent.wav", new float[4000])];

        var e = Assert.Throws<ArgumentException>(() => DenoisingEvaluation.Evaluate(examples, x => x, includeOracles: false));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Example 'silent.wav' (index 1) cannot be scored:", e.Message);
        Assert.IsType<ArgumentException>(e.InnerException);
    }

    [Fact]
    public void Evaluate_NoisyLongerThanClean_ThrowsBeforeCallingDenoiser()
    {
        DenoisingExample bad = Example("m") with { Noisy = DenoisingFixtures.Noise(5000) };
        bool called = false;

        var e = Assert.Throws<ArgumentException>(() => DenoisingEvaluation.Evaluate([bad], x =>
        {
            called = true;
            return x;
        }));

        Assert.False(called);
        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Example 'm' (index 0) has 4000 clean samples but 5000 noisy", e.Message);
    }

    [Theory]
    [InlineData("Noisy")]
    [InlineData("Clean")]
    public void Evaluate_NullSignal_ThrowsNamingExampleAndSignal(string which)
    {
        DenoisingExample bad = which == "Noisy" ? Example("m") with { Noisy = null! } : Example("m") with { Clean = null! };

        var e = Assert.Throws<ArgumentException>(() => DenoisingEvaluation.Evaluate([Example("ok"), bad], x => x));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains($"Example 'm' (index 1) has no {which.ToLowerInvariant()} signal (null)", e.Message);
    }

    [Fact]
    public void Evaluate_ShortExampleWithOracles_ScoresIt()
    {
        // Shorter than the STFT's reflect padding allows (≤ 512 samples): the oracle pads like the denoiser does.
        DenoisingReport report = DenoisingEvaluation.Evaluate([Example("short", DenoisingFixtures.Tone(300, 1))], x => x);

        Assert.True(report.OracleIrmImprovementDb > 0, $"IRM improvement {report.OracleIrmImprovementDb}");
        Assert.True(double.IsFinite(report.OraclePowerImprovementDb!.Value));
    }

    [Fact]
    public void DenoisingReport_NoFiles_ThrowsSayingAtLeastOne()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenoisingReport([]));

        Assert.Equal("Files", e.ParamName);
        Assert.Contains("Expected at least one file score; found 0", e.Message);
    }

    [Fact]
    public void DenoisingReport_NullFiles_ThrowsNamingFiles()
    {
        var e = Assert.Throws<ArgumentNullException>(() => new DenoisingReport(null!));

        Assert.Equal("Files", e.ParamName);
    }

    [Fact]
    public void DenoisingReport_NullFileScore_ThrowsNamingIndex()
    {
        var score = new DenoisingFileScore("a", 1, 2, 1, 2, null, null);

        var e = Assert.Throws<ArgumentException>(() => new DenoisingReport([score, null!]));

        Assert.Contains("null at index 1", e.Message);
    }

    [Fact]
    public void Evaluate_NoExamples_ThrowsSayingAtLeastOne()
    {
        var e = Assert.Throws<ArgumentException>(() => DenoisingEvaluation.Evaluate([], x => x));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Expected at least one example; found 0", e.Message);
    }

    [Fact]
    public void Evaluate_NullExample_ThrowsNamingIndex()
    {
        var e = Assert.Throws<ArgumentException>(() => DenoisingEvaluation.Evaluate([Example("a.wav"), null!], x => x));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Expected examples; found null at index 1", e.Message);
    }

    [Fact]
    public void Evaluate_DenoiserReturnsOtherLength_ThrowsNamingExampleAndBothLengths()
    {
        DenoisingExample[] examples = [Example("a.wav"), Example("b.wav")];

        var e = Assert.Throws<InvalidOperationException>(() => DenoisingEvaluation.Evaluate(examples, x => ReferenceEquals(x, examples[1].Noisy) ? x[..^1] : x));

        Assert.Contains("The denoiser returned 3999 samples for 'b.wav'; expected 4000", e.Message);
    }
}
