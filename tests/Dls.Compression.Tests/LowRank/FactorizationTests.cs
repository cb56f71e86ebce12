using Dls.Compression.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Compression.Tests.LowRank;

[Collection("TorchGlobalState")]
public sealed class FactorizationTests
{
    private static Linear Layer(long inFeatures, long outFeatures, int seed)
    {
        var layer = nn.Linear(inFeatures, outFeatures);
        using var noGrad = torch.no_grad();
        using var w = torch.randn([outFeatures, inFeatures], generator: new Generator((ulong)seed));
        layer.weight!.copy_(w);
        return layer;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Factorize_RankD_ErrorEqualsTailSingularValues(int rank)
    {
        // Eckart–Young: the truncated SVD is the best rank-D approximation, with ‖W − W_D‖²_F = Σ_{i>D} σ_i².
        using var layer = Layer(12, 9, seed: rank);
        using var svd = WeightSvd.Of(layer.weight!);
        using var lowRank = Factorization.Factorize(layer, svd, rank);
        using var w64 = layer.weight!.detach().to(ScalarType.Float64);
        using var approx = lowRank.ToDenseWeight().to(ScalarType.Float64);
        double error2 = (w64 - approx).pow(2).sum().item<double>();
        double tail2 = svd.SingularValues.Skip(rank).Sum(s => s * s);
        // Factors are stored in float32 (relative rounding ~6e-8 per element), so the squared error matches the
        // exact tail to about 1e-5 relative; 1e-4 of ‖W‖² leaves margin.
        double total2 = svd.TotalEnergy;
        Assert.Equal(tail2, error2, 1e-4 * total2);
        Assert.Equal(Math.Sqrt(tail2 / total2), svd.RelativeError(rank), 1e-12);
        Assert.Equal(1 - tail2 / total2, svd.RetainedEnergy(rank), 1e-12);
    }

    [Fact]
    public void Factorize_RankD_BeatsAnotherRankDApproximation()
    {
        using var layer = Layer(10, 8, seed: 5);
        using var lowRank = Factorization.Factorize(layer, 2);
        using var w = layer.weight!.detach();
        using var best = (w - lowRank.ToDenseWeight()).pow(2).sum();
        // Any other rank-2 matrix, e.g. one from random factors fitted to nothing, is further away.
        using var a = torch.randn(8, 2, generator: new Generator(1));
        using var b = torch.randn(2, 10, generator: new Generator(2));
        using var other = (w - a.mm(b)).pow(2).sum();
        Assert.True(best.item<float>() < other.item<float>());
    }

    [Fact]
    public void Factorize_FullRank_ReproducesLayerOutputs()
    {
        using var layer = Layer(6, 5, seed: 3);
        using var lowRank = Factorization.Factorize(layer, 5);
        using var x = torch.randn([4, 6], generator: new Generator(9));
        using var expected = layer.call(x);
        using var actual = lowRank.call(x);
        // float32 products of factors built in float64: agreement to ~1e-6 relative; 1e-4 absolute for O(1) outputs.
        Assert.True(torch.allclose(expected, actual, rtol: 1e-4, atol: 1e-4));
        using var x3 = torch.randn([2, 3, 6], generator: new Generator(10));
        Assert.True(torch.allclose(layer.call(x3), lowRank.call(x3), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Factors_SplitSingularValuesEvenly()
    {
        using var layer = Layer(7, 4, seed: 8);
        using var svd = WeightSvd.Of(layer.weight!);
        var (u, v) = svd.Factors(3);
        using (u)
        using (v)
        {
            // With √S on each side, column i of u and row i of v both have norm √σ_i.
            for (int i = 0; i < 3; i++)
            {
                double expected = Math.Sqrt(svd.SingularValues[i]);
                Assert.Equal(expected, u.select(1, i).norm().item<float>(), 1e-4);
                Assert.Equal(expected, v.select(0, i).norm().item<float>(), 1e-4);
            }
        }
    }

    [Fact]
    public void RankForEnergy_ReturnsSmallestSufficientRank()
    {
        using var layer = Layer(8, 8, seed: 4);
        using var svd = WeightSvd.Of(layer.weight!);
        for (double e = 0.1; e <= 1.0; e += 0.15)
        {
            int r = svd.RankForEnergy(e);
            Assert.True(svd.RetainedEnergy(r) >= e - 1e-12);
            if (r > 1) Assert.True(svd.RetainedEnergy(r - 1) < e);
        }
        Assert.Equal(svd.MaxRank, svd.RankForEnergy(1.0));
    }

    [Fact]
    public void LowRankLinear_ParameterCountAndShapes()
    {
        using var layer = new LowRankLinear(784, 1024, 20);
        Assert.Equal(20 * (784 + 1024) + 1024, layer.ParameterCount);
        Assert.Equal(layer.ParameterCount, layer.parameters().Sum(p => p.numel()));
        Assert.Equal(["u", "v", "bias"], layer.named_parameters().Select(p => p.name).ToArray());
        using var y = layer.call(torch.zeros(3, 784));
        Assert.Equal([3L, 1024L], y.shape);
    }

    [Fact]
    public void FromFactors_MismatchedShapes_ThrowWithShapes()
    {
        using var u = torch.zeros(5, 3);
        using var v = torch.zeros(2, 4);
        var e = Assert.Throws<ArgumentException>(() => LowRankLinear.FromFactors(u, v, null));
        Assert.Contains("[5×3]", e.Message);
        Assert.Contains("[2×4]", e.Message);
    }

    [Fact]
    public void Forward_InferenceCall_LeavesNoLiveTensors()
    {
        using var layer = new LowRankLinear(16, 8, 4);
        using var x = torch.randn(5, 16);
        using (torch.no_grad()) layer.call(x).Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (torch.no_grad())
            for (int i = 0; i < 20; i++)
                layer.call(x).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Of_NaNWeight_ThrowsWithCount()
    {
        using var layer = Layer(6, 4, seed: 1);
        using (torch.no_grad())
            layer.weight![1, 2] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => WeightSvd.Of(layer.weight!, "fc"));

        Assert.Equal("weight", e.ParamName);
        Assert.Contains("Expected a finite weight of layer 'fc'; found 1 NaN or infinite value(s) among its 24 (4×6)", e.Message);
    }

    [Theory]
    [InlineData(null, "Expected a 2-D weight (out, in), found shape [2×3×4]")]
    [InlineData("enc.fc", "Expected a 2-D weight of layer 'enc.fc' (out, in), found shape [2×3×4]")]
    public void Of_ThreeDimensionalWeight_ThrowsWithShape(string? layerName, string expected)
    {
        using var weight = torch.zeros(2, 3, 4);

        var e = Assert.Throws<ArgumentException>(() => WeightSvd.Of(weight, layerName));

        Assert.Equal("weight", e.ParamName);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(0, 5, "Expected a weight with at least one row and one column, found shape [0×5]")]
    [InlineData(5, 0, "Expected a weight with at least one row and one column, found shape [5×0]")]
    public void Of_EmptyWeight_ThrowsWithShape(int rows, int columns, string expected)
    {
        using var weight = torch.zeros(rows, columns);

        var e = Assert.Throws<ArgumentException>(() => WeightSvd.Of(weight));

        Assert.Equal("weight", e.ParamName);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RankForEnergy_OutsideZeroOne_ThrowsWithValue(double energy)
    {
        using var layer = Layer(5, 4, seed: 2);
        using var svd = WeightSvd.Of(layer.weight!);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => svd.RankForEnergy(energy));

        Assert.Equal("energy", e.ParamName);
        Assert.Equal(energy, e.ActualValue);
        Assert.Contains("Expected an energy fraction in (0, 1]", e.Message);
    }

    [Fact]
    public void RankChecks_OutOfRange_ThrowWithBoundsAndWeightShape()
    {
        // A 4×7 weight (out 4, in 7) has min(4, 7) = 4 singular values: ranks 0…4 for energies and errors, 1…4 for factors.
        using var layer = Layer(7, 4, seed: 6);
        using var svd = WeightSvd.Of(layer.weight!);

        var factors = Assert.Throws<ArgumentOutOfRangeException>(() => svd.Factors(0));
        var retained = Assert.Throws<ArgumentOutOfRangeException>(() => svd.RetainedEnergy(-1));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => svd.RelativeError(5));

        Assert.All([factors, retained, error], e => Assert.Equal("rank", e.ParamName));
        Assert.Equal(0, factors.ActualValue);
        Assert.Contains("Expected a rank in [1, 4] for a 4×7 weight", factors.Message);
        Assert.Equal(-1, retained.ActualValue);
        Assert.Contains("Expected a rank in [0, 4] for a 4×7 weight", retained.Message);
        Assert.Equal(5, error.ActualValue);
        Assert.Contains("Expected a rank in [0, 4] for a 4×7 weight", error.Message);
    }

    [Fact]
    public void Factorize_DecompositionOfAnotherShape_ThrowsWithBothShapes()
    {
        using var layer = Layer(7, 4, seed: 6);
        using var other = Layer(7, 5, seed: 7);
        using var svd = WeightSvd.Of(other.weight!);

        var e = Assert.Throws<ArgumentException>(() => Factorization.Factorize(layer, svd, 2));

        Assert.Equal("svd", e.ParamName);
        Assert.Contains("The decomposition is of a 5×7 weight, the layer's is 4×7", e.Message);
    }
}
