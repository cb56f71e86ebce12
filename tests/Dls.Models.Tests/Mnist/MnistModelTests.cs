using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Mnist;

[Collection("TorchGlobalState")]
public sealed class MnistModelTests
{
    private static readonly MnistMlpOptions Tiny = new() { InputSize = 16, HiddenSize = 12, HiddenLayers = 3, Classes = 4 };

    [Fact]
    public void ParameterCounts_MatchTheAssignment()
    {
        using var dense = new MnistMlp();
        using var lowRank = new LowRankMlp(new LowRankMlpOptions { Rank = 20 });
        using var forced = new LowRankMlp(new LowRankMlpOptions { Rank = 20, FactorizeOutput = true });
        Assert.Equal(5_012_490, ModelCounter.CountParameters(dense).Total);
        Assert.Equal(215_370, ModelCounter.CountParameters(lowRank).Total);
        Assert.Equal(225_810, ModelCounter.CountParameters(forced).Total);
    }

    [Fact]
    public void Compressor_OutputLayerAtRank20_KeptDenseUnlessForced()
    {
        // The baseline's 1024→10 output layer: rank 20 is capped at min(1024, 10) = 10, and even that needs
        // 10·(1024+10) = 10,340 weights against 10,240 dense.
        using var output = TorchSharp.torch.nn.Sequential(("out", TorchSharp.torch.nn.Linear(1024, 10)));
        var report = ModelCompressor.Compress(output, CompressionPolicy.FixedRank(20));
        Assert.Equal(LayerDecision.KeptDenseNoSaving, report.Layers[0].Decision);
        Assert.Contains("10,340", report.Layers[0].Reason);
        // Forced, the rank is capped at min(1024, 10) = 10: 10·1034 + 10 = 10,350 parameters.
        var forced = ModelCompressor.Compress(output, CompressionPolicy.FixedRank(20) with { ForceFactorization = true });
        Assert.Equal(10_350, forced.ModelParametersAfter);
    }

    [Fact]
    public void FromDense_EqualsWholeModelCompression_AndStateDictsAlign()
    {
        torch.manual_seed(1);
        using var dense = new MnistMlp(Tiny);
        dense.eval();
        using var lowRank = LowRankMlp.FromDense(dense, 3);
        lowRank.eval();
        ModelCompressor.Compress(dense, CompressionPolicy.FixedRank(3));
        using var x = torch.rand(5, 16);
        using var a = dense.call(x);
        using var b = lowRank.call(x);
        // Same decomposition, same float32 factors: identical up to summation order (1e-5).
        Assert.True(torch.allclose(a, b, rtol: 1e-5, atol: 1e-5));
        Assert.Equal(Checkpoint.StateOf(lowRank), Checkpoint.StateOf(dense), new StateEntryComparer());
    }

    [Fact]
    public void FromDense_FullRank_ReproducesDenseOutputs()
    {
        torch.manual_seed(2);
        using var dense = new MnistMlp(Tiny);
        dense.eval();
        // 12 = min(in, out) of every hidden layer (16→12, 12→12, 12→12): the largest rank their SVDs supply.
        using var lowRank = LowRankMlp.FromDense(dense, 12);
        lowRank.eval();
        using var x = torch.rand(7, 16);
        // Exact factorization kept in float32: agreement ~1e-6; 1e-4 leaves margin.
        Assert.True(torch.allclose(dense.call(x), lowRank.call(x), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Classifier_MatchesModuleForward_AndPredictsArgmax()
    {
        torch.manual_seed(3);
        using var model = new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 2, FactorizeOutput = true });
        model.eval();
        using var classifier = new MnistClassifier(model);
        var pixels = Enumerable.Range(0, 3 * 16).Select(i => (float)((i * 7919) % 101) / 100f).ToArray();
        float[] logits = classifier.Logits(pixels);
        using var x = torch.tensor(pixels, [3, 16]);
        float[] expected;
        using (torch.no_grad()) expected = model.call(x).data<float>().ToArray();
        // Same maths, different GEMM grouping: 1e-5 for O(1) logits.
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], logits[i], 1e-5f);
        int[] classes = classifier.Predict(pixels);
        for (int r = 0; r < 3; r++)
            Assert.Equal(Array.IndexOf(expected, expected.Skip(r * 4).Take(4).Max(), r * 4) - r * 4, classes[r]);
        var e = Assert.Throws<ArgumentException>(() => classifier.Logits(new float[17]));
        Assert.Contains("multiple of 16", e.Message);
    }

    [Fact]
    public void Classifier_MixedLayersAndAlternatingBatchSizes_MatchModuleForward()
    {
        // Low-rank hidden layers (bias carried as an extra inner column) and a dense output layer; each batch size has
        // its own cached buffers, so alternating sizes must not mix them up.
        torch.manual_seed(4);
        using var model = new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 3 });
        model.eval();
        using var classifier = new MnistClassifier(model);
        foreach (int count in new[] { 3, 1, 5, 3, 1 })
        {
            var pixels = Enumerable.Range(0, count * 16).Select(i => (float)(((i + count) * 7919) % 101) / 100f).ToArray();
            using var x = torch.tensor(pixels, [count, 16]);
            float[] expected;
            using (torch.no_grad()) expected = model.call(x).data<float>().ToArray();
            float[] logits = classifier.Logits(pixels);
            // Same maths, different GEMM grouping (bias inside the second GEMM): 1e-5 for O(1) logits.
            Assert.Equal(expected.Length, logits.Length);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], logits[i], 1e-5f);
        }
    }

    [Fact]
    public void Classifier_RepeatedAndConcurrentCalls_BitIdentical()
    {
        // The assignment's full-size network, called again serially and from four threads at once, each call on a new
        // managed copy. Same data, same operations, so the tolerance is zero: what a caller gets must not depend on
        // when, from which thread or from which array it calls.
        torch.manual_seed(6);
        using var model = new MnistMlp();
        model.eval();
        using var classifier = new MnistClassifier(model);
        var random = new Random(6);
        var pixels = Enumerable.Range(0, 9 * 784).Select(_ => (float)random.NextDouble()).ToArray();
        float[] first = classifier.Logits(pixels);
        void Check(int call) => Assert.True(classifier.Logits(pixels.ToArray()).AsSpan().SequenceEqual(first), $"call {call} differed");
        for (int i = 0; i < 4; i++) Check(i);
        Parallel.For(4, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, Check);
    }

    [Fact]
    public void Inference_ModuleAndClassifierCalls_LeaveNoLiveTensors()
    {
        using var model = new MnistMlp(Tiny);
        model.eval();
        using var classifier = new MnistClassifier(model);
        var pixels = new float[2 * 16];
        using var x = torch.zeros(2, 16);
        classifier.Logits(pixels);
        using (torch.no_grad()) model.call(x).Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++)
        {
            classifier.Logits(pixels);
            using (torch.no_grad()) model.call(x).Dispose();
            using (torch.inference_mode()) classifier.Forward(x).Dispose();
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Classifier_ManyBatchSizes_KeepsFourBufferSetsAndTheSameResults()
    {
        using var model = new MnistMlp(Tiny);
        model.eval();
        using var classifier = new MnistClassifier(model);
        var random = new Random(8);
        float[] Pixels(int images) => Enumerable.Range(0, images * 16).Select(_ => (float)random.NextDouble()).ToArray();
        float[] three = Pixels(3);
        float[] first = classifier.Logits(three);

        // A service answering requests of 20 different sizes: buffers of the least recently used sizes are freed.
        for (int images = 4; images < 24; images++)
        {
            classifier.Logits(Pixels(images));
            Assert.True(classifier.CachedBufferSets <= MnistClassifier.CachedBatchSizes, $"{classifier.CachedBufferSets} buffer sets after {images} images");
        }

        // Size 3 was evicted long ago; its buffers are made anew and give the same logits bit for bit.
        Assert.Equal(first, classifier.Logits(three));
        Assert.Equal(MnistClassifier.CachedBatchSizes, classifier.CachedBufferSets);
    }

    [Fact]
    public void Classifier_LogitsThenForwardUnderNoGrad_SameBatchSize_GiveTheSameLogits()
    {
        // Logits runs under inference_mode, Forward under whatever the caller opened (no_grad here): the cached buffers
        // of one batch size serve both, in either order.
        using var model = new MnistMlp(Tiny);
        model.eval();
        using var classifier = new MnistClassifier(model);
        var pixels = Enumerable.Range(0, 5 * 16).Select(i => (float)(i % 7) / 7).ToArray();
        float[] logits = classifier.Logits(pixels);

        using var images = torch.tensor(pixels, [5, 16]);
        float[] forward;
        using (torch.no_grad())
        using (var result = classifier.Forward(images))
        {
            forward = result.data<float>().ToArray();
        }

        Assert.Equal(logits, forward);
        Assert.Equal(logits, classifier.Logits(pixels));
    }

    [Fact]
    public void Options_Invalid_ListEveryProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => new MnistMlp(new MnistMlpOptions { HiddenSize = 0, Classes = 1, Dropout = 1 }));
        Assert.Contains("HiddenSize", e.Message);
        Assert.Contains("Classes", e.Message);
        Assert.Contains("Dropout", e.Message);
        Assert.Contains("Rank", Assert.Throws<ArgumentException>(() => new LowRankMlp(new LowRankMlpOptions { Rank = 0 })).Message);
    }

    private sealed class StateEntryComparer : IEqualityComparer<StateEntry>
    {
        public bool Equals(StateEntry? a, StateEntry? b) => a!.Name == b!.Name && a.Shape.SequenceEqual(b.Shape) && a.DType == b.DType;
        public int GetHashCode(StateEntry e) => e.Name.GetHashCode(StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WrongFeatureCount_ThrowsWithExpectedAndFoundShapes()
    {
        using var dense = new MnistMlp(Tiny with { InputSize = 784 });
        using var lowRank = new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 2 });
        using var x = torch.rand(32, 100);

        var e = Assert.Throws<ArgumentException>(() => dense.call(x));
        var f = Assert.Throws<ArgumentException>(() => lowRank.call(x));

        Assert.Contains("Expected (batch, 784); found (32, 100).", e.Message);
        Assert.Contains("Expected (batch, 16); found (32, 100).", f.Message);
    }

    [Fact]
    public void Classifier_OtherModel_ThrowsNamingItsType()
    {
        using var linear = nn.Linear(16, 4);

        var e = Assert.Throws<ArgumentException>(() => new MnistClassifier(linear));

        Assert.Equal("model", e.ParamName);
        Assert.Contains("Expected a MnistMlp or LowRankMlp, found Linear", e.Message);
    }

    [Fact]
    public void Classifier_LayerWithoutBias_ThrowsNamingLayer()
    {
        using var model = new MnistMlp(Tiny);
        ((TorchSharp.Modules.Linear)model.Layers[1]).bias = null;

        var e = Assert.Throws<ArgumentException>(() => new MnistClassifier(model));

        Assert.Equal("model", e.ParamName);
        Assert.Contains("Layer 1 is a Linear (or lacks a bias); expected Linear or LowRankLinear with bias", e.Message);
    }

    [Fact]
    public void Classifier_LayerReadingAnotherWidth_ThrowsNamingBothLayers()
    {
        // Tiny: 16 → 12 → 12 → 12 → 4; layer 1's weight replaced by one reading 11 features.
        using var model = new MnistMlp(Tiny);
        ((TorchSharp.Modules.Linear)model.Layers[1]).weight = new TorchSharp.Modules.Parameter(torch.zeros(12, 11));

        var e = Assert.Throws<ArgumentException>(() => new MnistClassifier(model));

        Assert.Equal("model", e.ParamName);
        Assert.Contains("Layer 1 takes 11 features but layer 0 gives 12", e.Message);
    }

    [Fact]
    public void Classifier_HiddenLayerOfAnotherWidth_ThrowsNamingWidths()
    {
        using var model = new MnistMlp(Tiny);
        var layer = (TorchSharp.Modules.Linear)model.Layers[1];
        layer.weight = new TorchSharp.Modules.Parameter(torch.zeros(13, 12));
        layer.bias = new TorchSharp.Modules.Parameter(torch.zeros(13));

        var e = Assert.Throws<ArgumentException>(() => new MnistClassifier(model));

        Assert.Equal("model", e.ParamName);
        Assert.Contains("Expected every hidden layer to have 12 outputs (one hidden width); layer 1 has 13", e.Message);
    }

    [Fact]
    public void FromCheckpoint_DenoiserCheckpoint_ThrowsInvalidDataNamingArchitecture()
    {
        string dir = Directory.CreateTempSubdirectory("dls-mnist-ckpt-").FullName;
        try
        {
            string path = Path.Combine(dir, "gru.ckpt");
            Dls.Models.Denoising.DenoisingModels.RegisterArchitectures();
            using (var network = new Dls.Models.Denoising.GruMaskNetwork(new Dls.Models.Denoising.GruMaskNetworkOptions(HiddenSize: 4)))
                Dls.Models.Denoising.DenoisingModels.Save(path, network);

            var e = Assert.Throws<InvalidDataException>(() => MnistClassifier.FromCheckpoint(path));

            Assert.Contains($"Checkpoint '{path}' holds architecture 'gru-mask' (GruMaskNetwork); expected a MnistMlp or LowRankMlp", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
