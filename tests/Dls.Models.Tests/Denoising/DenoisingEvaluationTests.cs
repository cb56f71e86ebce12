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
}
