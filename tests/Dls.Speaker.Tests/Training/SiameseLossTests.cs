using Dls.Speaker.Training;
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
}
