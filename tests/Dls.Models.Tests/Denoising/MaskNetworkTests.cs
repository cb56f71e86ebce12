using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

public sealed class MaskNetworkTests
{
    [Theory]
    [InlineData("fc")]
    [InlineData("gru")]
    public void Forward_Magnitude_MaskInUnitIntervalWithInputShape(string kind)
    {
        IMaskNetwork network = kind == "fc" ? DenoisingFixtures.TinyFc() : DenoisingFixtures.TinyGru();
        using var module = (nn.Module)network;
        using var scope = NewDisposeScope();

        Tensor mask = network.forward(rand(2, 7, 513));

        Assert.Equal([2L, 7, 513], mask.shape);
        Assert.True(mask.min().item<float>() > 0 && mask.max().item<float>() < 1);
    }

    [Fact]
    public void Forward_WrongBins_ThrowsWithShape()
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        using Tensor x = zeros(1, 3, 100);

        var e = Assert.Throws<ArgumentException>(() => network.forward(x));

        Assert.Contains("(batch, frames, 513); found (1, 3, 100)", e.Message);
    }

    [Theory]
    [InlineData("fc")]
    [InlineData("gru")]
    public void Forward_ComplexSpectrum_ThrowsSayingPassAbs(string kind)
    {
        IMaskNetwork network = kind == "fc" ? DenoisingFixtures.TinyFc() : DenoisingFixtures.TinyGru();
        using var module = (nn.Module)network;
        using Tensor spectrum = complex(rand(1, 4, 513), rand(1, 4, 513));

        var e = Assert.Throws<ArgumentException>(() => network.forward(spectrum));

        Assert.Equal("magnitude", e.ParamName);
        Assert.Contains("Expected a real float32 magnitude (batch, frames, 513); found ComplexFloat32 — pass spectrum.abs().", e.Message);
    }

    [Fact]
    public void ForwardContinued_Float64Magnitude_ThrowsNamingType()
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        using Tensor x = rand(1, 3, 513, dtype: ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => network.ForwardContinued(x, null, out _));

        Assert.Contains("found Float64 — convert with .to(ScalarType.Float32)", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardContinued_PiecesWithState_EqualsWholeSequence(bool refined)
    {
        using var network = (GruMaskNetwork)(refined ? DenoisingFixtures.TinyRefinedGru() : new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8)));
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 10, 513) * 5;

        Tensor whole = network.forward(x);
        // Pieces of 3, 1 (shorter than the refiner's 3 frames) and 6 frames.
        Tensor a = network.ForwardContinued(x.narrow(1, 0, 3), null, out Tensor? s1);
        Tensor b = network.ForwardContinued(x.narrow(1, 3, 1), s1, out Tensor? s2);
        Tensor c = network.ForwardContinued(x.narrow(1, 4, 6), s2, out Tensor? s3);

        // Same float32 operations in the same order; only matmul/convolution blocking may differ: 1e-6 is ample.
        Assert.True(cat([a, b, c], 1).sub(whole).abs().max().item<float>() < 1e-6f);
        Assert.Equal([1L, network.StateSize], s3!.shape);
    }

    [Fact]
    public void Options_InvalidValues_ListsEveryBadField()
    {
        var e = Assert.Throws<ArgumentException>(() => new FcMaskNetwork(new FcMaskNetworkOptions(Bins: 0, HiddenSize: -1, Dropout: 1)));

        Assert.Contains("Bins must be > 0 (found 0)", e.Message);
        Assert.Contains("HiddenSize must be > 0 (found -1)", e.Message);
        Assert.Contains("Dropout must be in [0, 1) (found 1)", e.Message);
    }

    [Fact]
    public void SaveLoad_CompressedGru_RebuildsLowRankLayersWithSameOutput()
    {
        using var temp = new TempFolder();
        var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 16));
        ModelCompressor.Compress(network, CompressionPolicy.FixedRank(4));
        network.eval();
        string path = temp.File("gru.ckpt");
        DenoisingModels.Save(path, network);

        (IMaskNetwork loaded, int rate) = DenoisingModels.Load(path);

        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 5, 513);
        Assert.Equal(16000, rate);
        Assert.Equal(4, ((GruMaskNetwork)loaded).Options.Ranks["gru_hh"]);
        Assert.True(network.forward(x).sub(loaded.forward(x)).abs().max().item<float>() < 1e-6f);
        network.Dispose();
        ((nn.Module)loaded).Dispose();
    }

    [Fact]
    public void SaveLoad_CompressedRefinedGru_KeepsRefinerAndOutput()
    {
        using var network = (GruMaskNetwork)DenoisingFixtures.TinyRefinedGru();

        (GruMaskNetwork loaded, float difference) = DenoisingFixtures.CompressSaveReload(network, rank: 4);

        using (loaded)
        {
            GruMaskNetworkOptions options = loaded.Options;
            Assert.Equal((4, 3, 5), (options.RefinerChannels, options.RefinerFrames, options.RefinerBins));
            Assert.Contains(loaded.named_parameters(), p => p.name == "refiner.conv_in.weight");
            // Compression factors linear layers only; the refiner's convolutions stay as they are.
            Assert.Equal(4, options.Ranks["fc_out"]);
            Assert.True(difference < 1e-6f, $"max difference {difference}");
        }
    }

    [Fact]
    public void Load_CheckpointOfAnotherArchitecture_ThrowsNamingBoth()
    {
        using var temp = new TempFolder();
        using var mlp = new MnistMlp(new MnistMlpOptions { HiddenSize = 8, HiddenLayers = 1 });
        string path = temp.File("mnist.ckpt");
        Checkpoint.Save(path, mlp);

        var e = Assert.Throws<InvalidDataException>(() => DenoisingModels.Load(path));

        Assert.Contains("'mnist-mlp'", e.Message);
        Assert.Contains("gru-mask", e.Message);
    }

    [Fact]
    public void OracleMask_NoNoise_ReturnsInput()
    {
        float[] clean = DenoisingFixtures.Tone(9000);

        float[] output = OracleMask.Apply(clean, clean, new float[clean.Length], OracleMaskKind.IdealRatio);

        // Mask = |S|/(|S| + 0 + 1e-12) = 1 up to float rounding; STFT→ISTFT reconstructs to ~1e-6.
        Assert.True(DenoisingFixtures.MaxAbsDifference(clean, output) < 1e-4f);
    }

    [Fact]
    public void OracleMask_ToneInWhiteNoise_ImprovesSnr()
    {
        float[] clean = DenoisingFixtures.Tone(16000), noise = DenoisingFixtures.Noise(16000, amplitude: 0.3);
        float[] noisy = DenoisingFixtures.Add(clean, noise);

        DenoisingReport report = DenoisingEvaluation.Evaluate([new DenoisingExample("t", noisy, clean, noise)], x => x);

        // A harmonic tone is sparse in frequency, so an oracle mask removes most broadband noise (≫ 3 dB).
        Assert.True(report.OracleIrmImprovementDb > 3, $"IRM improvement {report.OracleIrmImprovementDb}");
        Assert.True(report.OraclePowerImprovementDb > 3, $"power mask improvement {report.OraclePowerImprovementDb}");
        Assert.Equal(0, report.SnrImprovementDb, 6);
    }

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.ComplexFloat32)]
    public void ForwardContinued_StateOfOtherDtype_ThrowsNamingDtypes(ScalarType dtype)
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        using var scope = NewDisposeScope();
        Tensor state = zeros(1, network.StateSize, dtype: dtype);

        var e = Assert.Throws<ArgumentException>(() => network.ForwardContinued(rand(1, 3, 513), state, out _));

        Assert.Equal("state", e.ParamName);
        Assert.Contains($"Expected a state of dtype Float32 (the network's parameters); found {dtype}", e.Message);
    }

    [Fact]
    public void Flush_Float64State_ThrowsNamingDtypes()
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4) { LookaheadFrames = 1 });
        using var scope = NewDisposeScope();
        Tensor state = zeros(2, network.StateSize, dtype: ScalarType.Float64);

        var e = Assert.Throws<ArgumentException>(() => network.Flush(state, 2));

        Assert.Contains("found Float64", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FcNetwork_GivenAnotherNetworksState_Throws(bool flush)
    {
        // A GRU network's state handed to the frame-wise FC network (which returns none): refused, not ignored.
        var fc = DenoisingFixtures.TinyFc();
        using var module = (nn.Module)fc;
        using var gru = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        using var scope = NewDisposeScope();
        Tensor state = zeros(1, gru.StateSize);

        var e = Assert.Throws<ArgumentException>(() => flush ? fc.Flush(state, 1) : fc.ForwardContinued(rand(1, 3, 513), state, out _));

        Assert.Equal("state", e.ParamName);
        Assert.Contains($"Expected no state (null): fc-mask is frame-wise and returns none; found a tensor of shape [1×{gru.StateSize}]", e.Message);
    }

    [Theory]
    [InlineData("fc")]
    [InlineData("gru")]
    public void Flush_NegativeBatch_ThrowsNamingBatch(string kind)
    {
        IMaskNetwork network = kind == "fc" ? DenoisingFixtures.TinyFc() : DenoisingFixtures.TinyGru();
        using var module = (nn.Module)network;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => network.Flush(null, -1));

        Assert.Equal("batch", e.ParamName);
        Assert.Contains("Expected a batch size ≥ 0; found -1", e.Message);
    }

    [Theory]
    [InlineData(1, 5, "(1, 4); found (1, 5)")]
    [InlineData(2, 4, "(1, 4); found (2, 4)")]
    public void ForwardContinued_StateOfOtherShape_ThrowsNamingBothShapes(int rows, int width, string shown)
    {
        // One layer of hidden size 4, causal: the state is (batch, 1 × 4).
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        using var scope = NewDisposeScope();
        Tensor state = zeros(rows, width);

        var e = Assert.Throws<ArgumentException>(() => network.ForwardContinued(rand(1, 3, 513), state, out _));

        Assert.Equal("state", e.ParamName);
        Assert.Contains($"Expected a state of shape {shown}", e.Message);
    }

    [Fact]
    public void ForwardContinued_NoFrames_GivesAnEmptyMaskAndKeepsTheState()
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4));
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(2, 5, 513);
        network.ForwardContinued(x, null, out Tensor? state);

        Tensor mask = network.ForwardContinued(zeros(2, 0, 513), state, out Tensor? next);
        Tensor after = network.ForwardContinued(x, next, out _);
        Tensor expected = network.ForwardContinued(x, state, out _);

        Assert.Equal([2L, 0, 513], mask.shape);
        Assert.Equal(state!.data<float>().ToArray(), next!.data<float>().ToArray());
        Assert.Equal(expected.data<float>().ToArray(), after.data<float>().ToArray());
    }
}
