using Dls.Compression.LowRank;
using static TorchSharp.torch;

namespace Dls.Compression.Tests.LowRank;

/// <summary>Objects that own tensors (an SVD, a low-rank layer) outlive the dispose scope open when they were made.</summary>
[Collection("TorchGlobalState")]
public sealed class CallerScopeTests
{
    [Fact]
    public void WeightSvdAndLowRankLayer_MadeInsideAScope_UsableAfterwards()
    {
        using var weight = randn(12, 9, generator: new Generator(4));
        WeightSvd svd;
        LowRankLinear layer;
        using (NewDisposeScope())
        {
            svd = WeightSvd.Of(weight);
            layer = new LowRankLinear(9, 12, 3);
        }

        using (svd)
        using (layer)
        using (NewDisposeScope())
        {
            var (u, v) = svd.Factors(9);
            // Full rank: U·V gives the weight back up to float32 SVD rounding (entries of order 1, 9 terms).
            Assert.True(u.mm(v).allclose(weight, rtol: 0, atol: 1e-4));
            Assert.Equal([2L, 12L], layer.forward(randn(2, 9)).shape);
        }
    }
}
