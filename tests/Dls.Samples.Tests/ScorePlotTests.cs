using Dls.Samples.Speaker;

namespace Dls.Samples.Tests;

public sealed class ScorePlotTests
{
    [Fact]
    public void Histograms_SmallCase_SharesPerClassInCommonBins()
    {
        // Scores span [0, 1]: four bins of 0.25. 0.9 and 1.0 fall in the last bin (1.0 is the closed upper edge); the
        // different-speaker scores 0.0, 0.5, 0.5, 1.0 fall in bins 0, 2, 2 and 3. Each class in % of its own trials.
        var (centres, target, nonTarget) = ScorePlot.Histograms([0.9, 1.0], [0.0, 0.5, 0.5, 1.0], bins: 4);

        Assert.Equal([0.125, 0.375, 0.625, 0.875], centres);
        Assert.Equal([0.0, 0.0, 0.0, 100.0], target);
        Assert.Equal([25.0, 0.0, 50.0, 25.0], nonTarget);
    }

    [Fact]
    public void Histograms_AllScoresEqual_OneNarrowBinCentredOnTheScore()
    {
        // Three bins of 0.01 around 0.5: [0.485, 0.495), [0.495, 0.505), [0.505, 0.515); 0.5 is the middle one's centre.
        var (centres, target, nonTarget) = ScorePlot.Histograms([0.5, 0.5], [0.5], bins: 3);

        Assert.Equal([0.0, 100.0, 0.0], target);
        Assert.Equal([0.0, 100.0, 0.0], nonTarget);
        Assert.Equal(0.5, centres[1], 12);
        Assert.Equal(0.01, centres[2] - centres[1], 12);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Histograms_NonFiniteScore_ThrowsNamingIt(double bad)
    {
        var e = Assert.Throws<ArgumentException>(() => ScorePlot.Histograms([0.9, 0.8], [0.1, bad], bins: 4));

        Assert.Equal("nonTargetScores", e.ParamName);
        Assert.Contains($"Expected finite scores; found {bad} at index 1.", e.Message);
    }

    [Fact]
    public void Histograms_ClassWithoutScores_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => ScorePlot.Histograms([], [0.1], bins: 4));

        Assert.Equal("targetScores", e.ParamName);
        Assert.Contains("Expected at least one score; found none.", e.Message);
    }
}
