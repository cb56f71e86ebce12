using Dls.Compression.LowRank;
using Dls.Models.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

/// <summary>Input standardisation, mask bound, stacked GRU layers and lookahead of the mask networks.</summary>
public sealed class MaskNetworkOptionsTests
{
    private static FeatureStatistics Statistics(float mean, float std) =>
        new(Enumerable.Repeat(mean, 513).ToArray(), Enumerable.Repeat(std, 513).ToArray());

    [Fact]
    public void ForwardContinued_LookaheadPiecesThenFlush_EqualsWholeSequence()
    {
        var network = (GruMaskNetwork)DenoisingFixtures.TinyLookaheadGru(lookahead: 2);
        using var module = network;
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 9, 513) * 5;

        Tensor whole = network.forward(x);
        // Rows of continued calls lag the input by two frames; the flush returns the last two.
        Tensor a = network.ForwardContinued(x.narrow(1, 0, 4), null, out Tensor? s1);
        Tensor b = network.ForwardContinued(x.narrow(1, 4, 5), s1, out Tensor? s2);
        Tensor tail = network.Flush(s2, 1);
        Tensor pieces = cat([a, b, tail], 1).narrow(1, 2, 9);

        // Same float32 operations in the same order; only matmul blocking may differ: 1e-6 is ample.
        Assert.Equal([1L, 9, 513], whole.shape);
        Assert.True(pieces.sub(whole).abs().max().item<float>() < 1e-6f);
        Assert.Equal([1L, (2 + 2) * 8], s2!.shape);
    }

    [Fact]
    public void Forward_Lookahead_MaskOfFrameDependsOnNextFramesOnly()
    {
        var network = (GruMaskNetwork)DenoisingFixtures.TinyLookaheadGru(lookahead: 1);
        using var module = network;
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 8, 513) * 5;
        Tensor changed = x.clone();
        changed[0, 5] = changed[0, 5] * 3;

        Tensor before = network.forward(x), after = network.forward(changed);

        // Changing frame 5 may change the masks of frames 4 (one frame of lookahead) and later, never of frames 0-3.
        Assert.True(before.narrow(1, 0, 4).sub(after.narrow(1, 0, 4)).abs().max().item<float>() == 0);
        Assert.True(before.narrow(1, 4, 1).sub(after.narrow(1, 4, 1)).abs().max().item<float>() > 0);
    }

    [Fact]
    public void Forward_MaskScale_StaysInsideBoundAndCanExceedOne()
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8, Dropout: 0) { MaskScale = 2 });
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            // A large output bias drives the sigmoid towards 1, so the mask approaches its bound of 2.
            network.named_parameters().Single(p => p.name == "fc3.bias").parameter.fill_(6);
        }

        Tensor mask = network.forward(rand(1, 3, 513));

        Assert.True(mask.max().item<float>() is > 1.9f and < 2f);
    }

    [Fact]
    public void SetInputStatistics_ShiftedFeatures_ChangesMaskAndSurvivesSaveLoad()
    {
        using var temp = new TempFolder();
        var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8) { NormalizeInput = true, Layers = 2 });
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 4, 513) * 3;
        Tensor identity = network.forward(x);

        network.SetInputStatistics(Statistics(1.5f, 0.5f));
        Tensor standardised = network.forward(x);
        string path = temp.File("gru.ckpt");
        DenoisingModels.Save(path, network);
        (IMaskNetwork loaded, _) = DenoisingModels.Load(path);

        Assert.True(identity.sub(standardised).abs().max().item<float>() > 1e-4f);
        // Loaded weights and statistics reproduce the output exactly (same operations, same values).
        Assert.True(loaded.forward(x).sub(standardised).abs().max().item<float>() < 1e-6f);
        Assert.True(loaded.NormalizesInput);
        network.Dispose();
        ((nn.Module)loaded).Dispose();
    }

    [Fact]
    public void SetInputStatistics_NetworkWithoutNormalization_Throws()
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8));

        var e = Assert.Throws<InvalidOperationException>(() => network.SetInputStatistics(Statistics(0, 1)));

        Assert.Contains("NormalizeInput = false", e.Message);
    }

    [Fact]
    public void SetInputStatistics_WrongLengthOrZeroDeviation_ThrowsWithCounts()
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8) { NormalizeInput = true });
        float[] zeroAt7 = Enumerable.Repeat(1f, 513).ToArray();
        zeroAt7[7] = 0;

        var shape = Assert.Throws<ArgumentException>(() => network.SetInputStatistics(new FeatureStatistics(new float[10], new float[513])));
        var zero = Assert.Throws<ArgumentException>(() => network.SetInputStatistics(new FeatureStatistics(new float[513], zeroAt7)));

        Assert.Contains("Expected 513 means and deviations; found 10 and 513", shape.Message);
        Assert.Contains("found 0 at bin 7", zero.Message);
    }

    [Fact]
    public void Measure_KnownSignals_GivesMeanAndDeviationOfLog1pMagnitude()
    {
        float[] tone = DenoisingFixtures.Tone(8000), noise = DenoisingFixtures.Noise(8000);

        float[][] signals = [tone, noise];
        FeatureStatistics statistics = MaskFeatures.Measure(signals);

        using var scope = NewDisposeScope();
        // The same features computed directly: (frames of both signals, bins) → per-bin mean and population deviation.
        Tensor f = cat(signals.Select(s => DenoisingStft.Forward(tensor(s).unsqueeze(0)).abs().log1p().squeeze(0)).ToArray(), 0);
        float[] mean = f.mean([0]).data<float>().ToArray();
        float[] std = f.std([0], unbiased: false).data<float>().ToArray();
        // float32 features summed in float64 vs torch's float32 reductions over 32 frames: agreement to ~1e-6.
        Assert.True(DenoisingFixtures.MaxAbsDifference(mean, statistics.Mean) < 1e-4f);
        Assert.True(DenoisingFixtures.MaxAbsDifference(std.Select(s => Math.Max(1e-3f, s)).ToArray(), statistics.Std) < 1e-4f);
    }

    [Fact]
    public void Measure_EmptySignal_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => MaskFeatures.Measure([DenoisingFixtures.Tone(100), []]));

        Assert.Contains("found an empty one", e.Message);
    }

    [Fact]
    public void Measure_NaNSample_ThrowsWithSignalAndSample()
    {
        float[] bad = DenoisingFixtures.Tone(2000);
        bad[1234] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => MaskFeatures.Measure([DenoisingFixtures.Tone(2000), bad]));

        Assert.Equal("signals", e.ParamName);
        Assert.Contains("Expected finite samples; signal 1 has NaN at sample 1234", e.Message);
    }

    [Fact]
    public void Options_InvalidGruSettings_ListsEveryBadField()
    {
        var e = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { Layers = 3, LookaheadFrames = 9, MaskScale = 0.5 }));
        var ranks = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { Ranks = new Dictionary<string, int> { ["gru2_hh"] = 2 } }));

        Assert.Contains("Layers must be 1 or 2 (found 3)", e.Message);
        Assert.Contains("LookaheadFrames must be in [0, 8] (found 9)", e.Message);
        Assert.Contains("MaskScale must be in [1, 4] (found 0.5)", e.Message);
        Assert.Contains("gru2_* layer, which exists only with Layers = 2", ranks.Message);
    }

    [Fact]
    public void Options_InvalidRefinerSettings_ListsEveryBadField()
    {
        var e = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { RefinerChannels = 2, RefinerFrames = 0, RefinerBins = 4, LookaheadFrames = 1 }));
        var channels = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { RefinerChannels = -1 }));

        Assert.Contains("RefinerFrames must be in [1, 16] (found 0)", e.Message);
        Assert.Contains("RefinerBins must be odd and in [1, 31] (found 4)", e.Message);
        Assert.Contains("RefinerChannels > 0 needs a causal network (LookaheadFrames = 0; found 1)", e.Message);
        Assert.Contains("RefinerChannels must be in [0, 256] (found -1)", channels.Message);
    }

    [Fact]
    public void SaveLoad_CompressedLookaheadGru_RebuildsWithSameOutput()
    {
        using var network = (GruMaskNetwork)DenoisingFixtures.TinyLookaheadGru();

        (GruMaskNetwork loaded, float difference) = DenoisingFixtures.CompressSaveReload(network, rank: 3);

        using (loaded)
        {
            GruMaskNetworkOptions options = loaded.Options;
            Assert.Equal(3, options.Ranks["gru2_ih"]);
            Assert.Equal(2, options.LookaheadFrames);
            Assert.True(options.InputSkip);
            // The same weights through the same operations: rounding-free in practice; 1e-6 is ample.
            Assert.True(difference < 1e-6f, $"max difference {difference}");
        }
    }

    [Fact]
    public void Options_RankForFrontEndWithoutOne_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { Ranks = new Dictionary<string, int> { ["fc_front"] = 2 } }));

        Assert.Contains("Ranks name fc_front, which exists only with FrontEndSize > 0", e.Message);
    }

    [Fact]
    public void Forward_FrontEnd_IsALayerBeforeFcIn()
    {
        // fc_front maps the 513 bins to FrontEndSize, fc_in reads its output; with fc_front's weights and bias at zero its
        // ReLU gives 0 whatever the input, so the mask no longer depends on the input.
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { FrontEndSize = 6 });
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        var shapes = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Tensor a = rand(1, 3, 513), b = rand(1, 3, 513) * 7;
        // With torch's random initial weights the four ReLUs of fc_in (or fc_front's six) can all be dead for both inputs,
        // and the mask then ignores the input before anything is zeroed (18 of 600 fresh networks; one CI run failed so).
        // Biases of 1 keep them live: 0 of 1,000 networks then gave the same mask for both inputs.
        foreach (var (name, parameter) in network.named_parameters().Where(p => p.name is "fc_front.bias" or "fc_in.bias"))
        {
            parameter.fill_(1);
        }

        bool differedBefore = network.forward(a).sub(network.forward(b)).abs().max().item<float>() > 0;
        foreach (var (name, parameter) in network.named_parameters().Where(p => p.name.StartsWith("fc_front.", StringComparison.Ordinal)))
        {
            parameter.zero_();
        }

        Tensor maskA = network.forward(a), maskB = network.forward(b);

        Assert.Equal([6L, 513], shapes["fc_front.weight"]);
        Assert.Equal([4L, 6], shapes["fc_in.weight"]);
        Assert.True(differedBefore);
        Assert.Equal(maskA.data<float>().ToArray(), maskB.data<float>().ToArray());
    }

    [Fact]
    public void Measure_NoSignals_ThrowsSayingNone()
    {
        var e = Assert.Throws<ArgumentException>(() => MaskFeatures.Measure([]));

        Assert.Equal("signals", e.ParamName);
        Assert.Contains("Expected at least one signal; found none", e.Message);
    }
}
