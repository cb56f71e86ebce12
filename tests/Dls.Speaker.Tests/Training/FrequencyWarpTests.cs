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

    [Fact]
    public void Apply_TwoBands_FollowsEachFactorAndStaysContinuous()
    {
        using var scope = NewDisposeScope();
        using var warp = new FrequencyWarp(8, 0.5, 2.0, kneeBin: 2);
        var x = tensor(new float[] { 0, 10, 20, 30, 40, 50, 60, 70 }).unsqueeze(0);
        // k ≤ 2 reads 0.5k: 0, 0.5, 1 → 0, 5, 10; above, 1 + 2(k − 2): 3, 5, 7, 7 (clamped), 7 → 30, 50, 70, 70, 70.
        var y = warp.Apply(x)[0].data<float>().ToArray();
        Assert.Equal(new float[] { 0, 5, 10, 30, 50, 70, 70, 70 }, y);
        Assert.Equal((0.5, 2.0, 2), (warp.Factor, warp.HighFactor, warp.KneeBin));
    }

    [Fact]
    public void Constructor_LinearWarp_IsTwoBandWithEqualFactors()
    {
        using var scope = NewDisposeScope();
        using var linear = new FrequencyWarp(16, 1.1);
        using var twoBand = new FrequencyWarp(16, 1.1, 1.1, kneeBin: 5);
        var x = randn(2, 16);
        // The same source bins up to float rounding of k·f versus 5f + (k − 5)f (1e-5 on unit-scale values).
        Assert.True(allclose(linear.Apply(x), twoBand.Apply(x), rtol: 0, atol: 1e-5));
        Assert.Equal((1.1, 15), (linear.HighFactor, linear.KneeBin));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void Constructor_KneeOutsideBins_ThrowsWithValue(int knee)
    {
        var e = Assert.Throws<ArgumentException>(() => new FrequencyWarp(8, 1.0, 1.0, knee));
        Assert.Contains($"[1, 7], found {knee}", e.Message);
    }

    [Fact]
    public void Constructor_InfiniteFactor_ThrowsWithValue()
    {
        // Before: +inf passed the "> 0" check and Apply returned NaN (0 · inf at bin 0).
        var low = Assert.Throws<ArgumentException>(() => new FrequencyWarp(8, double.PositiveInfinity));
        Assert.Equal("factor", low.ParamName);
        Assert.Contains("finite positive", low.Message);
        var high = Assert.Throws<ArgumentException>(() => new FrequencyWarp(8, 1.0, double.PositiveInfinity, 3));
        Assert.Equal("highFactor", high.ParamName);
    }

    [Fact]
    public void Apply_ScalarTensor_ThrowsArgumentException()
    {
        using var scope = NewDisposeScope();
        using var warp = new FrequencyWarp(8, 1.0);
        var ex = Assert.Throws<ArgumentException>(() => warp.Apply(tensor(1f)));
        Assert.Contains("found ()", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void Constructor_FewerThanTwoBins_ThrowsWithCount(int bins)
    {
        var e = Assert.Throws<ArgumentException>(() => new FrequencyWarp(bins, 1.0));
        Assert.Equal("bins", e.ParamName);
        Assert.Contains($"Expected at least 2 bins, found {bins}.", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.5)]
    [InlineData(double.NaN)]                 // fails "> 0" as well: NaN compares false
    [InlineData(double.NegativeInfinity)]
    public void Constructor_FactorNotPositiveOrNaN_ThrowsNamingWhichFactor(double bad)
    {
        var low = Assert.Throws<ArgumentException>(() => new FrequencyWarp(8, bad));
        Assert.Equal("factor", low.ParamName);
        Assert.Contains($"Expected a finite positive warp factor, found {bad}.", low.Message);
        var high = Assert.Throws<ArgumentException>(() => new FrequencyWarp(8, 1.0, bad, 3));
        Assert.Equal("highFactor", high.ParamName);
        Assert.Contains($"Expected a finite positive high-band warp factor, found {bad}.", high.Message);
    }
}
