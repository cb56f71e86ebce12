using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.Tests.Counting;

public sealed class ModelCounterTests
{
    [Fact]
    public void CountParameters_CountsTotalTrainableAndPerModule()
    {
        using var model = Sequential(("a", Linear(4, 3)), ("b", Linear(3, 2)));
        foreach (var p in model.named_parameters().Where(p => p.name.StartsWith("b.")))
            p.parameter.requires_grad = false;
        var count = ModelCounter.CountParameters(model);
        Assert.Equal(15 + 8, count.Total);
        Assert.Equal(15, count.Trainable);
        Assert.Equal(["a", "b"], count.PerModule.Select(m => m.Name).ToArray());
    }

    [Fact]
    public void CountMacs_LinearLowRankConvAndBidirectionalGru()
    {
        using var linear = Linear(10, 6);
        using var lowRank = new LowRankLinear(10, 6, 2);
        using var conv = Conv1d(4, 8, 3);
        // 2-layer bidirectional GRU, input 5, hidden 7: layer 0 has input 5, layer 1 input 2·7 = 14 (both directions).
        using var gru = GRU(5, 7, numLayers: 2, bidirectional: true);
        Assert.Equal(60, ModelCounter.LayerMacsPerPosition(linear));
        Assert.Equal(2 * 16, ModelCounter.LayerMacsPerPosition(lowRank));
        Assert.Equal(8 * 4 * 3, ModelCounter.LayerMacsPerPosition(conv));
        long expectedGru = 2 * (3 * 7 * (5 + 7)) + 2 * (3 * 7 * (14 + 7));
        Assert.Equal(expectedGru, ModelCounter.LayerMacsPerPosition(gru));
        var total = ModelCounter.CountMacs(gru, positions: 50);
        Assert.Equal(expectedGru * 50, total.Total);
    }

    [Fact]
    public void CountMacs_ReportsUncountedParameterizedLeaves()
    {
        using var model = Sequential(("fc", Linear(3, 3)), ("norm", LayerNorm(3)));
        var macs = ModelCounter.CountMacs(model);
        Assert.Equal(9, macs.Total);
        Assert.Equal(["norm"], macs.Uncounted);
    }
}
