namespace Dls.Audio.Tests;

public sealed class SampleChecksTests
{
    [Fact]
    public void IndexOfNonFinite_FindsTheFirstNaNOrInfinity_OrMinusOne()
    {
        Assert.Equal(-1, SampleChecks.IndexOfNonFinite([]));
        Assert.Equal(-1, SampleChecks.IndexOfNonFinite([0f, -1f, 1f, float.MaxValue, float.Epsilon]));
        Assert.Equal(3, SampleChecks.IndexOfNonFinite([0f, 0.5f, -0.5f, float.NaN, float.PositiveInfinity]));
        Assert.Equal(0, SampleChecks.IndexOfNonFinite([float.NegativeInfinity, float.NaN]));
    }
}
