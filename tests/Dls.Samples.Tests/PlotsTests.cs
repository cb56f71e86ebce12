using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

public sealed class PlotsTests
{
    [Fact]
    public void LinesAndScatter_SeriesWithMoreXThanY_ThrowNamingTheSeriesAndWriteNothing()
    {
        using var dir = ScratchFolder.Create("dls-plots-");
        string path = dir.PathFor("plot.png");
        PlotSeries[] series = [new("train", [1, 2, 3], [0.9, 0.5, 0.3]), new("test", [1, 2, 3], [0.8, 0.6])];

        var lines = Assert.Throws<ArgumentException>(() => Plots.Lines(path, "loss", "epoch", "loss", series));
        var scatter = Assert.Throws<ArgumentException>(() => Plots.Scatter(path, "loss", "epoch", "loss", series));

        Assert.Equal("series", lines.ParamName);
        Assert.Contains("Series 'test': expected as many X as Y values, found 3 X and 2 Y.", lines.Message);
        Assert.Equal(lines.Message, scatter.Message);
        Assert.False(File.Exists(path));
    }
}
