using Dls.Compression.LowRank;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Compression.Tests.LowRank;

/// <summary>What <see cref="LowRankLinear"/> refuses: factors that do not make a layer, inputs it cannot multiply.</summary>
[Collection("TorchGlobalState")]
public sealed class LowRankLinearTests
{
    [Fact]
    public void FromFactors_MixedFactorDtypes_ThrowsNamingBoth()
    {
        using var u = torch.zeros(3, 2);
        using var v = torch.zeros([2, 4], ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, null));

        Assert.Equal("v", e.ParamName);
        Assert.Contains("Expected u, v and bias of one floating-point dtype; found u Float32, v Float64", e.Message);
    }

    [Fact]
    public void FromFactors_BiasOfOtherDtype_ThrowsNamingDtypes()
    {
        using var u = torch.zeros(3, 2);
        using var v = torch.zeros(2, 4);
        using var bias = torch.zeros([3], ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, bias));

        Assert.Equal("bias", e.ParamName);
        Assert.Contains("found u Float32, v Float32, bias Float64", e.Message);
    }

    [Fact]
    public void FromFactors_IntegerFactors_Throws()
    {
        using var u = torch.zeros([3, 2], ScalarType.Int64);
        using var v = torch.zeros([2, 4], ScalarType.Int64);

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, null));

        Assert.Contains("found u Int64, v Int64", e.Message);
    }

    [Fact]
    public void FromFactors_RankZero_Throws()
    {
        using var u = torch.zeros(3, 0);
        using var v = torch.zeros(0, 4);

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, null));

        Assert.Contains("Expected u (out, rank) and v (rank, in) with out, rank and in ≥ 1, found u [3×0] and v [0×4]", e.Message);
    }

    [Theory]
    [InlineData("u", 2, 1, float.NaN)]
    [InlineData("v", 1, 3, float.PositiveInfinity)]
    [InlineData("bias", 2, -1, float.NegativeInfinity)]
    public void FromFactors_NonFiniteValue_ThrowsWithNameIndexAndValue(string which, int row, int column, float bad)
    {
        using var u = torch.ones(3, 2);
        using var v = torch.ones(2, 4);
        using var bias = torch.ones(3);
        using (torch.no_grad())
        {
            if (which == "u") u[row, column] = bad;
            else if (which == "v") v[row, column] = bad;
            else bias[row] = bad;
        }

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, bias));

        Assert.Equal(which, e.ParamName);
        string at = column < 0 ? $"[{row}]" : $"[{row}, {column}]";
        Assert.Contains($"Expected finite values in {which}; found {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)} at {at}", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 5, 15 }, "[5×15]")]
    [InlineData(new long[] { 2, 3, 17 }, "[2×3×17]")]
    public void Forward_WrongInputWidth_ThrowsWithShapes(long[] shape, string shown)
    {
        using var layer = new LowRankLinear(16, 8, 4);
        using var x = torch.zeros(shape);

        var e = Assert.Throws<ArgumentException>(() => layer.call(x));

        Assert.Equal("input", e.ParamName);
        Assert.Contains($"Expected input (…, 16) for a 16→8 layer, found {shown}", e.Message);
    }

    [Fact]
    public void Forward_InputOfOtherDtype_ThrowsNamingBoth()
    {
        using var layer = new LowRankLinear(16, 8, 4);
        using var x = torch.zeros([5, 16], ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => layer.call(x));

        Assert.Contains("Expected Float32 input (the dtype of the factors), found Float64", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 4 }, "[4]")]
    [InlineData(new long[] { 3, 1 }, "[3×1]")]
    public void FromFactors_BiasOfWrongShape_ThrowsWithBothShapes(long[] biasShape, string shown)
    {
        using var u = torch.zeros(3, 2);
        using var v = torch.zeros(2, 4);
        using var bias = torch.zeros(biasShape);

        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, bias));

        Assert.Equal("bias", e.ParamName);
        Assert.Contains($"Expected bias of shape [3], found {shown}", e.Message);
    }
}
