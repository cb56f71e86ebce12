using Dls.Speaker.Training;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

public sealed class SourceFilterWarpTests
{
    private const int Bins = 64;

    /// <summary>A frame of cos(π (k + ½) c / Bins) over bins k: DCT-II basis vector c (up to scale).</summary>
    private static Tensor Cosine(int c) => (arange(Bins, dtype: ScalarType.Float32).add(0.5) * (float)(Math.PI * c / Bins)).cos();

    [Fact]
    public void Envelope_SmoothAndFineFrames_KeepsOnlyLowQuefrencies()
    {
        using var scope = NewDisposeScope();
        using var warp = new SourceFilterWarp(Bins, 1.1, 0.9, cepstralCoefficients: 8);
        var smooth = 2 + Cosine(3);     // coefficients 0 and 3: inside the first 8
        var fine = Cosine(20);          // coefficient 20: outside
        // Orthonormal projection in float32: exact up to rounding (~1e-6 per bin for values of order 1).
        Assert.True(allclose(warp.Envelope(smooth), smooth, rtol: 0, atol: 1e-5));
        Assert.True(allclose(warp.Envelope(fine), zeros(Bins), rtol: 0, atol: 1e-5));
        Assert.True(allclose(warp.Envelope((smooth + fine).unsqueeze(0))[0], smooth, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Apply_EqualFactors_MatchesPlainFrequencyWarp()
    {
        using var scope = NewDisposeScope();
        using var split = new SourceFilterWarp(Bins, 1.15, 1.15);
        using var plain = new FrequencyWarp(Bins, 1.15);
        var x = randn(5, Bins);
        Assert.True(allclose(split.Apply(x), plain.Apply(x)));
    }

    [Fact]
    public void Apply_DifferentFactors_WarpsEnvelopeAndFineStructureSeparately()
    {
        using var scope = NewDisposeScope();
        using var warp = new SourceFilterWarp(Bins, 1.0, 1.2, cepstralCoefficients: 8);
        using var fineWarp = new FrequencyWarp(Bins, 1.2);
        var smooth = 2 + Cosine(3);
        var fine = Cosine(20);
        // Envelope factor 1 leaves the smooth part as it is; only the fine structure is stretched.
        var expected = smooth + fineWarp.Apply(fine);
        Assert.True(allclose(warp.Apply((smooth + fine).unsqueeze(0))[0], expected, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Constructor_BadSizes_ThrowWithValues()
    {
        Assert.Contains("found 1", Assert.Throws<ArgumentException>(() => new SourceFilterWarp(1, 1.0, 1.0)).Message);
        Assert.Contains("[1, 64], found 65", Assert.Throws<ArgumentException>(() => new SourceFilterWarp(Bins, 1.0, 1.0, 65)).Message);
        Assert.Contains("found -1", Assert.Throws<ArgumentException>(() => new SourceFilterWarp(Bins, -1, 1.0)).Message);
    }

    [Fact]
    public void Apply_WrongBins_ThrowsNamingShapes()
    {
        using var scope = NewDisposeScope();
        using var warp = new SourceFilterWarp(Bins, 1.0, 1.1);
        var message = Assert.Throws<ArgumentException>(() => warp.Apply(zeros(3, 10))).Message;
        Assert.Contains("64 bins", message);
        Assert.Contains("(3, 10)", message);
    }
}
