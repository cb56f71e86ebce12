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
    public void Histograms_AllScoresEqual_OneBinHoldsEveryTrial()
    {
        var (_, target, nonTarget) = ScorePlot.Histograms([0.5, 0.5], [0.5], bins: 3);

        Assert.Equal([100.0, 0.0, 0.0], target);
        Assert.Equal([100.0, 0.0, 0.0], nonTarget);
    }
}
