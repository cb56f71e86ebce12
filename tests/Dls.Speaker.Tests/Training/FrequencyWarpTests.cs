using Dls.Speaker.Training;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

public sealed class FrequencyWarpTests
{
    [Fact]
    public void Apply_FactorOne_IsIdentity()
    {
        using var scope = NewDisposeScope();
        using var warp = new FrequencyWarp(8, 1.0);
        var x = randn(3, 8);
        Assert.True(allclose(warp.Apply(x), x));
    }

    [Fact]
    public void Apply_FactorOneAndHalf_InterpolatesAndClamps()
    {
        using var scope = NewDisposeScope();
        using var warp = new FrequencyWarp(5, 1.5);
        var x = tensor(new float[] { 0, 10, 20, 30, 40 }).unsqueeze(0);
        // Output bin k reads input bin 1.5k: 0, 15, 30, 40 (clamped at 4), 40.
        var y = warp.Apply(x)[0].data<float>().ToArray();
        Assert.Equal(new float[] { 0, 15, 30, 40, 40 }, y);
    }
}
