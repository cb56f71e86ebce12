using Dls.Models.Mnist;

namespace Dls.Models.Tests.Mnist;

public sealed class MnistSplitTests
{
    [Fact]
    public void Constructor_PixelCountNotLabelsTimesImageSize_ThrowsWithBothCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => new MnistSplit(new byte[10], new byte[5], 28, 28));

        Assert.Equal("Pixels", e.ParamName);
        Assert.Contains("Expected 5 labels × 28×28 = 3920 pixel bytes, found 10", e.Message);
    }

    [Theory]
    [InlineData(0, 28)]
    [InlineData(28, -1)]
    public void Constructor_NonPositiveImageSize_ThrowsArgumentOutOfRange(int rows, int columns)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MnistSplit([], [], rows, columns));

        Assert.Equal(rows < 1 ? "Rows" : "Columns", e.ParamName);
    }

    [Fact]
    public void Constructor_NullLabels_ThrowsArgumentNull()
    {
        var e = Assert.Throws<ArgumentNullException>(() => new MnistSplit(new byte[4], null!, 2, 2));
        Assert.Equal("Labels", e.ParamName);
    }

    [Fact]
    public void Take_ConsistentSplit_CopiesTheFirstImages()
    {
        var split = new MnistSplit([1, 2, 3, 4, 5, 6, 7, 8], [7, 9], 2, 2);

        var first = split.Take(1);

        Assert.Equal([1, 2, 3, 4], first.Pixels);
        Assert.Equal([7], first.Labels);
        Assert.Equal((2, 2), (first.Rows, first.Columns));
    }

    [Fact]
    public void ReadLabels_ZeroClasses_ThrowsArgumentOutOfRange()
    {
        using var stream = new MemoryStream(IdxFixtures.Labels(0, 1));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MnistIdx.ReadLabels(stream, "y", classes: 0));

        Assert.Equal("classes", e.ParamName);
    }
}
