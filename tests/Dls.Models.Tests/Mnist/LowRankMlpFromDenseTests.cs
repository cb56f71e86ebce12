using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using Dls.Models.Mnist;
using TorchSharp;
using TorchSharp.Modules;

namespace Dls.Models.Tests.Mnist;

/// <summary>The SVD initialisation of <see cref="LowRankMlp"/> refusing what it cannot do.</summary>
[Collection("TorchGlobalState")]
public sealed class LowRankMlpFromDenseTests
{
    private static readonly MnistMlpOptions Narrow = new() { InputSize = 16, HiddenSize = 32, HiddenLayers = 2, Classes = 4 };

    [Fact]
    public void FromDense_RankAboveLayerMaxRank_ThrowsNamingLayerAndRanks()
    {
        using var dense = new MnistMlp(Narrow);

        var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, 100));

        Assert.Equal("rank", e.ParamName);
        // layers.0 is 16→32: its SVD has min(16, 32) = 16 singular values.
        Assert.Contains("layer 'layers.0' (16→32) has at most rank 16 = min(in, out); requested 100", e.Message);
    }

    [Fact]
    public void FromDense_FactorizedOutputRankAboveClasses_ThrowsNamingOutputLayer()
    {
        using var dense = new MnistMlp(Narrow);

        var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, 8, factorizeOutput: true));

        Assert.Contains("layer 'layers.2' (32→4) has at most rank 4 = min(in, out); requested 8", e.Message);
    }

    [Fact]
    public void FromDense_RankAtEveryLayerMaxRank_Accepted()
    {
        using var dense = new MnistMlp(Narrow);

        using var lowRank = LowRankMlp.FromDense(dense, 16);

        // 16·(16+32)+32 + 16·(32+32)+32 + 32·4+4: the largest ranks the SVDs supply.
        Assert.Equal(16 * 48 + 32 + 16 * 64 + 32 + 132, ModelCounter.CountParameters(lowRank).Total);
    }

    [Fact]
    public void Constructor_RankAboveLayerWidths_StillAccepted()
    {
        // The samples build this on purpose: factorizing 1024→10 at rank 20 costs more than it saves.
        using var forced = new LowRankMlp(new LowRankMlpOptions { Rank = 20, FactorizeOutput = true });
        Assert.Equal(225_810, ModelCounter.CountParameters(forced).Total);
    }

    [Fact]
    public void FromDense_AlreadyCompressedModel_ThrowsArgumentException()
    {
        using var dense = new MnistMlp(Narrow);
        ModelCompressor.Compress(dense, CompressionPolicy.FixedRank(2));

        var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, 2));

        Assert.Equal("dense", e.ParamName);
        Assert.Contains("Layer 0 of the dense network is a LowRankLinear; expected Linear (is it already compressed?)", e.Message);
    }

    [Fact]
    public void FromDense_DecompositionsOfOtherShapes_ThrowsNamingLayerAndShapes()
    {
        using var dense = new MnistMlp(Narrow);
        using var other = new MnistMlp(Narrow with { HiddenSize = 24 });
        var svds = other.Layers.Select((l, i) => WeightSvd.Of(((Linear)l).weight!, $"layers.{i}")).ToArray();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, svds, 2));

            Assert.Equal("svds", e.ParamName);
            Assert.Contains("svds[0] decomposes a 24×16 weight, but layer 'layers.0' of the dense network is 32×16", e.Message);
        }
        finally
        {
            foreach (var svd in svds) svd.Dispose();
        }
    }

    [Fact]
    public void FromDense_DecompositionCountNotLayerCount_ThrowsNamingBoth()
    {
        using var dense = new MnistMlp(Narrow);   // 2 hidden layers + output: 3 layers
        using var svd = WeightSvd.Of(((Linear)dense.Layers[0]).weight!, "layers.0");

        var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, [svd], 2));

        Assert.Equal("svds", e.ParamName);
        Assert.Contains("Expected one decomposition per layer (3), found 1", e.Message);
    }

    [Fact]
    public void FromDense_NullDecomposition_ThrowsNamingIndexAndLayer()
    {
        using var dense = new MnistMlp(Narrow);
        var svds = dense.Layers.Select((l, i) => WeightSvd.Of(((Linear)l).weight!, $"layers.{i}")).ToArray();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => LowRankMlp.FromDense(dense, [svds[0], null!, svds[2]], 2));

            Assert.Equal("svds", e.ParamName);
            Assert.Contains("svds[1] is null; expected the decomposition of layer 'layers.1'", e.Message);
        }
        finally
        {
            foreach (var svd in svds) svd.Dispose();
        }
    }
}
