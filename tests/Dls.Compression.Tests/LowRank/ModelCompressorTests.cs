using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.Tests.LowRank;

[Collection("TorchGlobalState")]
public sealed class ModelCompressorTests
{
    /// <summary>A user-defined module holding a nested Sequential and a plain field.</summary>
    private sealed class Net : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> encoder;
        private readonly Module<Tensor, Tensor> head;

        public Net() : base(nameof(Net))
        {
            encoder = Sequential(("fc1", Linear(20, 16)), ("act", ReLU()), ("fc2", Linear(16, 16)), ("act2", ReLU()));
            head = Linear(16, 3);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = encoder.call(input);
            return head.call(h);
        }
    }

    /// <summary>A module whose Linear field type cannot hold a LowRankLinear.</summary>
    private sealed class Rigid : Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc;

        public Rigid() : base(nameof(Rigid))
        {
            fc = Linear(8, 8);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => fc.call(input);
    }

    /// <summary>A module whose first Linear can be replaced and whose second cannot (a field typed Linear).</summary>
    private sealed class HalfRigid : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> fc1;
        private readonly TorchSharp.Modules.Linear fc2;

        public HalfRigid() : base(nameof(HalfRigid))
        {
            fc1 = Linear(8, 8);
            fc2 = Linear(8, 8);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = fc1.call(input);
            return fc2.call(h);
        }
    }

    /// <summary>A module that registers its layer by name but keeps it in no field or list of its own.</summary>
    private sealed class Unheld : Module<Tensor, Tensor>
    {
        public Unheld() : base(nameof(Unheld))
        {
            register_module("fc", Linear(8, 8));
        }

        public override Tensor forward(Tensor input) => ((Module<Tensor, Tensor>)named_children().Single().module).call(input);
    }

    /// <summary>A module that keeps its registered layer in a list typed for Linear, which cannot hold a LowRankLinear.</summary>
    private sealed class TypedList : Module<Tensor, Tensor>
    {
        private readonly List<TorchSharp.Modules.Linear> layers = [];

        public TypedList() : base(nameof(TypedList))
        {
            var fc = Linear(8, 8);
            layers.Add(fc);
            register_module("fc", fc);
        }

        public override Tensor forward(Tensor input) => layers[0].call(input);
    }

    [Fact]
    public void Compress_FixedRank_ReplacesNestedLayersAndKeepsUnprofitableDense()
    {
        using var net = new Net();
        using var x = torch.randn(4, 20);
        var report = ModelCompressor.Compress(net, CompressionPolicy.FixedRank(4));

        var names = net.named_modules().Where(m => m.module is LowRankLinear).Select(m => m.name).ToArray();
        Assert.Equal(["encoder.fc1", "encoder.fc2"], names);
        // head: 16→3, rank capped at min(16, 3) = 3, needs 3·19 = 57 ≥ 48 weights: it stays dense and the report says why.
        var head = report.Layers.Single(l => l.Name == "head");
        Assert.Equal(LayerDecision.KeptDenseNoSaving, head.Decision);
        Assert.Contains("57", head.Reason);
        Assert.Equal(ModelCounter.CountParameters(net).Total, report.ModelParametersAfter);
        Assert.Equal(4 * 36 + 16 + 4 * 32 + 16 + 51, report.ModelParametersAfter);
        using var y = net.call(x); // the forward pass uses the new layers
        Assert.Equal([4L, 3L], y.shape);
        Assert.Contains("encoder.fc1.u", net.state_dict().Keys);
    }

    [Fact]
    public void Compress_Force_FactorizesEveryLayer()
    {
        using var net = new Net();
        var report = ModelCompressor.Compress(net, CompressionPolicy.FixedRank(4) with { ForceFactorization = true });
        Assert.All(report.Layers, l => Assert.Equal(LayerDecision.Factorized, l.Decision));
        Assert.Equal(3, net.modules().Count(m => m is LowRankLinear));
    }

    [Fact]
    public void Compress_FullRank_ReproducesModelOutputs()
    {
        using var net = new Net();
        net.eval();
        using var x = torch.randn(6, 20);
        using var before = net.call(x);
        ModelCompressor.Compress(net, CompressionPolicy.FixedRank(16) with { ForceFactorization = true });
        using var after = net.call(x);
        // Exact SVD factors in float32: outputs agree to ~1e-6; 1e-4 leaves margin.
        Assert.True(torch.allclose(before, after, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Compress_NameFilters_ExcludeLayers()
    {
        using var net = new Net();
        var report = ModelCompressor.Compress(net, CompressionPolicy.FixedRank(2) with { Include = ["encoder.*"], Exclude = ["*fc2"] });
        Assert.Equal(LayerDecision.Factorized, report.Layers.Single(l => l.Name == "encoder.fc1").Decision);
        Assert.Equal(LayerDecision.Excluded, report.Layers.Single(l => l.Name == "encoder.fc2").Decision);
        Assert.Equal(LayerDecision.Excluded, report.Layers.Single(l => l.Name == "head").Decision);
    }

    [Fact]
    public void Compress_EnergyThreshold_KeepsRequestedEnergyPerLayer()
    {
        using var net = new Net();
        var report = ModelCompressor.Compress(net, CompressionPolicy.EnergyThreshold(0.9) with { ForceFactorization = true });
        Assert.All(report.Layers, l => Assert.True(l.RetainedEnergy >= 0.9 - 1e-12, $"{l.Name}: {l.RetainedEnergy}"));
    }

    [Fact]
    public void Compress_ParameterBudget_StaysWithinBudget()
    {
        using var net = new Net();
        long before = ModelCounter.CountParameters(net).Total; // 336 + 272 + 51 = 659
        var report = ModelCompressor.Compress(net, CompressionPolicy.ParameterBudgetOf(450));
        Assert.Equal(before, report.ModelParametersBefore);
        Assert.True(report.ModelParametersAfter <= 450, $"{report.ModelParametersAfter} parameters");
        // Greedy filling leaves less than one rank step (in + out ≤ 36) of the budget unused.
        Assert.True(report.ModelParametersAfter > 450 - 36, $"{report.ModelParametersAfter} parameters");
    }

    [Fact]
    public void Compress_UnreachableBudget_ThrowsWithMinimum()
    {
        using var net = new Net();
        var e = Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(net, CompressionPolicy.ParameterBudgetOf(10)));
        Assert.Contains("unreachable", e.Message);
    }

    [Fact]
    public void Compress_BudgetOfFixedRankOneWithDenseLayer_Reached()
    {
        // 100→100 at rank 1 costs 200 + 100 bias; 100→1 saves nothing at rank 1 (101 ≥ 100 weights) and stays dense at
        // 100 + 1: 401 in all, what FixedRank(1) gives.
        using var net = Sequential(("big", Linear(100, 100)), ("out", Linear(100, 1)));
        using var copy = Sequential(("big", Linear(100, 100)), ("out", Linear(100, 1)));

        var report = ModelCompressor.Compress(net, CompressionPolicy.ParameterBudgetOf(401));

        Assert.Equal(401, report.ModelParametersAfter);
        Assert.Equal(ModelCompressor.Compress(copy, CompressionPolicy.FixedRank(1)).ModelParametersAfter, report.ModelParametersAfter);
        Assert.Equal(LayerDecision.KeptDenseNoSaving, report.Layers.Single(l => l.Name == "out").Decision);
    }

    [Fact]
    public void Compress_BudgetWithDenseLayer_SlackBuysRank()
    {
        // 601 = rank 2 on 100→100 (2·200 + 100) + the dense 100→1 (101): the dense layer's 101 is what it really costs.
        using var net = Sequential(("big", Linear(100, 100)), ("out", Linear(100, 1)));

        var report = ModelCompressor.Compress(net, CompressionPolicy.ParameterBudgetOf(601));

        Assert.Equal(2, report.Layers.Single(l => l.Name == "big").Rank);
        Assert.Equal(601, report.ModelParametersAfter);
    }

    [Fact]
    public void Compress_BudgetBelowMinimumWithDenseLayer_ThrowsWithTrueMinimum()
    {
        using var net = Sequential(("big", Linear(100, 100)), ("out", Linear(100, 1)));

        var e = Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(net, CompressionPolicy.ParameterBudgetOf(400)));

        Assert.Contains("A budget of 400 parameters is unreachable", e.Message);
        Assert.Contains("has 401", e.Message);
    }

    [Fact]
    public void Compress_FieldTypeTooNarrow_ThrowsNamingField()
    {
        using var net = new Rigid();
        var e = Assert.Throws<NotSupportedException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(1)));
        Assert.Contains("'fc'", e.Message);
    }

    [Fact]
    public void Compress_SecondLayerNotReplaceable_ThrowsAndLeavesModelUnchanged()
    {
        using var net = new HalfRigid();
        using var x = torch.randn(2, 8);
        using var before = net.call(x);

        var e = Assert.Throws<NotSupportedException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(1)));

        Assert.Contains("'fc2'", e.Message);
        // fc1 comes first and could be replaced: the check of every layer before any replacement keeps it dense and alive.
        Assert.DoesNotContain(net.modules(), m => m is LowRankLinear);
        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], net.state_dict().Keys.Order(StringComparer.Ordinal));
        using var after = net.call(x);
        Assert.Equal(before.data<float>().ToArray(), after.data<float>().ToArray());
    }

    [Fact]
    public void Compress_IncludePatternMatchingNoLayer_ThrowsNamingPatternAndLayers()
    {
        using var net = new Net();

        var e = Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(2) with { Include = ["encoder.*", "encodr.fc1"] }));

        Assert.Equal("policy", e.ParamName);
        Assert.Contains("Include pattern 'encodr.fc1' matches no Linear layer", e.Message);
        Assert.DoesNotContain("'encoder.*'", e.Message);
        Assert.Contains("[encoder.fc1, encoder.fc2, head]", e.Message);
        Assert.DoesNotContain(net.modules(), m => m is LowRankLinear);
    }

    [Fact]
    public void Compress_ExcludePatternMatchingNoLayer_ThrowsNamingPattern()
    {
        using var net = new Net();

        var e = Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(2) with { Exclude = ["encoder.fc3"] }));

        Assert.Contains("Exclude pattern 'encoder.fc3' matches no Linear layer", e.Message);
        Assert.Contains("[encoder.fc1, encoder.fc2, head]", e.Message);
        Assert.DoesNotContain(net.modules(), m => m is LowRankLinear);
    }

    [Fact]
    public void Compress_NonFiniteWeight_ThrowsNamingLayerAndCount()
    {
        using var net = new Net();
        var fc2 = net.named_modules().Single(m => m.name == "encoder.fc2").module as TorchSharp.Modules.Linear;
        using (torch.no_grad())
        {
            fc2!.weight![0, 0] = float.NaN;
            fc2.weight[3, 1] = float.PositiveInfinity;
        }

        var e = Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(2)));

        Assert.Contains("layer 'encoder.fc2'", e.Message);
        Assert.Contains("found 2 NaN or infinite value(s) among its 256 (16×16)", e.Message);
    }

    [Fact]
    public void Report_TableAndJson_CarryLayersAndTotals()
    {
        using var net = new Net();
        var report = ModelCompressor.Compress(net, CompressionPolicy.FixedRank(4));
        string table = report.ToTable();
        Assert.Contains("encoder.fc1", table);
        Assert.Contains("compression ratio", table);
        var json = report.ToJson();
        Assert.Equal(3, json["layers"]!.AsArray().Count);
        Assert.Equal(report.ModelParametersAfter, json["model_params_after"]!.GetValue<long>());
        Assert.Equal("KeptDenseNoSaving", json["layers"]![2]!["decision"]!.GetValue<string>());
    }

    [Fact]
    public void Validate_InvalidPolicy_ListsProblems()
    {
        var errors = (CompressionPolicy.FixedRank(0) with { Exclude = [""] }).Validate();
        Assert.Equal(2, errors.Count);
        Assert.Throws<ArgumentException>(() => ModelCompressor.Compress(nn.Linear(2, 2), CompressionPolicy.EnergyThreshold(1.5)));
    }

    [Fact]
    public void Compress_LayerRegisteredButNotHeld_ThrowsNamingLayerAndParent()
    {
        using var net = new Unheld();

        var e = Assert.Throws<NotSupportedException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(1)));

        Assert.Contains("Cannot replace 'fc' in Unheld: the child is registered but not held in a field or list", e.Message);
        Assert.DoesNotContain(net.modules(), m => m is LowRankLinear);
    }

    [Fact]
    public void Compress_LayerInListOfLinear_ThrowsNamingElementType()
    {
        using var net = new TypedList();

        var e = Assert.Throws<NotSupportedException>(() => ModelCompressor.Compress(net, CompressionPolicy.FixedRank(1)));

        Assert.Contains("Cannot replace 'fc' in TypedList: it sits in a list of Linear, which cannot hold a LowRankLinear", e.Message);
        Assert.DoesNotContain(net.modules(), m => m is LowRankLinear);
    }
}
