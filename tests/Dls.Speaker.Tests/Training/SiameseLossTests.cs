using Dls.Speaker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

public sealed class SiameseLossTests
{
    [Fact]
    public void Contrastive_HandComputed()
    {
        using var scope = NewDisposeScope();
        // same pair cos 0.8 → d = 0.2 → 0.04; different pair cos 0.5 → d = 0.5, margin 1 → (0.5)² = 0.25; mean 0.145.
        var loss = SiameseLoss.Contrastive(tensor(new float[] { 0.8f, 0.5f }), tensor(new float[] { 1, 0 }), 1.0);
        Assert.Equal(0.145, loss.item<float>(), 1e-6);
    }

    [Fact]
    public void Contrastive_ManyCalls_LeaveNoLiveTensors()
    {
        using var cos = tensor(new float[] { 0.8f, 0.5f, -0.2f });
        using var same = tensor(new float[] { 1, 0, 0 });
        SiameseLoss.Contrastive(cos, same, 0.7).Dispose();   // warm-up
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 100; i++)
        {
            using var loss = SiameseLoss.Contrastive(cos, same, 0.7);
            // d = (0.2, 0.5, 1.2), margin 0.7: 0.04, 0.2², 0 → mean 0.08/3.
            Assert.Equal(0.08 / 3, loss.item<float>(), 1e-6);
        }
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void AdditiveMarginSoftmax_HandComputed()
    {
        using var scope = NewDisposeScope();
        using var scale = 10.0.ToScalar();
        using var margin = 0.2.ToScalar();
        // Row 0, class 0 true: logits 10·(0.5 − 0.2) = 3 and 10·0.1 = 1 → −log(e³/(e³ + e)) = log(1 + e⁻²).
        // Row 1, class 1 true: logits 10·0.3 = 3 and 10·(0.2 − 0.2) = 0 → log(1 + e³). Mean of the two.
        var loss = SiameseLoss.AdditiveMarginSoftmax(tensor(new float[] { 0.5f, 0.1f, 0.3f, 0.2f }).view(2, 2), tensor(new long[] { 0, 1 }), scale, margin);
        Assert.Equal((Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(3))) / 2, loss.item<float>(), 1e-5);
    }

    [Fact]
    public void AdditiveMarginSoftmax_MismatchedShapes_ThrowsWithShapes()
    {
        using var scope = NewDisposeScope();
        using var one = 1.0.ToScalar();
        var e = Assert.Throws<ArgumentException>(() => SiameseLoss.AdditiveMarginSoftmax(zeros(3, 2), zeros(2, ScalarType.Int64), one, one));
        Assert.Contains("(3, 2)", e.Message);
        Assert.Contains("(2)", e.Message);
    }

    [Fact]
    public void BinaryCrossEntropy_HandComputed()
    {
        using var scope = NewDisposeScope();
        // logit 0 → −log(0.5) = ln 2 whatever the label.
        var loss = SiameseLoss.BinaryCrossEntropy(zeros(2), tensor(new float[] { 1, 0 }));
        Assert.Equal(Math.Log(2), loss.item<float>(), 1e-6);
    }

    [Fact]
    public void Contrastive_BadMargin_Throws()
    {
        using var c = zeros(1);
        Assert.Contains("(0, 2]", Assert.Throws<ArgumentException>(() => SiameseLoss.Contrastive(c, c, 3)).Message);
    }

    [Fact]
    public void Contrastive_MismatchedShapes_ThrowsWithShapes()
    {
        using var scope = NewDisposeScope();
        // (pairs) against (pairs, 1) used to broadcast to pairs × pairs and give a plausible but wrong loss.
        var e = Assert.Throws<ArgumentException>(() => SiameseLoss.Contrastive(ones(3), ones(3, 1), 1.0));
        Assert.Contains("found (3) and (3, 1)", e.Message);
    }

    [Fact]
    public void BinaryCrossEntropy_MismatchedShapes_ThrowsWithShapes()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SiameseLoss.BinaryCrossEntropy(zeros(3), zeros(2)));
        Assert.Contains("found (3) and (2)", e.Message);
        var twoDims = Assert.Throws<ArgumentException>(() => SiameseLoss.BinaryCrossEntropy(zeros(3, 1), zeros(3, 1)));
        Assert.Contains("found (3, 1) and (3, 1)", twoDims.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]                 // a NaN margin would make every different-speaker term NaN
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    public void Contrastive_MarginOutsideZeroToTwo_ThrowsWithValue(double margin)
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => SiameseLoss.Contrastive(zeros(2), ones(2), margin));
        Assert.Equal("margin", e.ParamName);
        Assert.Contains($"Contrastive margin must be in (0, 2] (cosine distance), found {margin}.", e.Message);
    }
}
