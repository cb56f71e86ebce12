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

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void IndexOfNonFinite_AnyLengthAndPosition_SameAsASampleBySampleSearch(float bad)
    {
        // The vectorised search handles whole blocks and a tail: every length up to a few blocks, every position of one
        // bad value (and a second one after it), against the plain definition. Values include the extremes whose x − x is
        // still exactly 0.
        var rng = new Random(5);
        for (int length = 0; length <= 4 * System.Numerics.Vector<float>.Count + 3; length++)
        {
            float[] samples = Enumerable.Range(0, length).Select(i => i % 7 == 3 ? float.MaxValue : (float)(rng.NextDouble() * 2 - 1)).ToArray();
            Assert.Equal(-1, SampleChecks.IndexOfNonFinite(samples));
            for (int at = 0; at < length; at++)
            {
                float[] copy = (float[])samples.Clone();
                copy[at] = bad;
                if (at + 2 < length) copy[at + 2] = float.NaN;
                Assert.Equal(at, SampleChecks.IndexOfNonFinite(copy));
            }
        }
    }
}
