using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

/// <summary>
/// The mask networks' input kind (log1p or raw magnitude) and mask activation (sigmoid or ReLU), the two settings a network
/// trained elsewhere needs to run as it was trained.
/// </summary>
public sealed class MaskInputActivationTests
{
    /// <summary>The FC network written out with its own weights: act(W3·relu(W2·relu(W1·f(x) + b1) + b2) + b3).</summary>
    private static Tensor ByHand(FcMaskNetwork network, Tensor x, Func<Tensor, Tensor> input, Func<Tensor, Tensor> activation)
    {
        var p = network.state_dict();
        Tensor Layer(string name, Tensor h) => nn.functional.linear(h, p[$"{name}.weight"], p[$"{name}.bias"]);
        Tensor h1 = nn.functional.relu(Layer("fc1", input(x)));
        Tensor h2 = nn.functional.relu(Layer("fc2", h1));
        return activation(Layer("fc3", h2));
    }

    [Theory]
    [InlineData(MaskInput.Log1pMagnitude, MaskActivation.Sigmoid)]
    [InlineData(MaskInput.Magnitude, MaskActivation.Sigmoid)]
    [InlineData(MaskInput.Log1pMagnitude, MaskActivation.Relu)]
    [InlineData(MaskInput.Magnitude, MaskActivation.Relu)]
    public void Forward_InputAndActivation_AreTheStatedFunctions(MaskInput input, MaskActivation activation)
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 16, Dropout: 0) { Input = input, Activation = activation });
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(2, 5, 513) * 4;

        Tensor mask = network.forward(x);
        Tensor expected = ByHand(
            network,
            x,
            input == MaskInput.Magnitude ? t => t : t => t.log1p(),
            activation == MaskActivation.Relu ? t => nn.functional.relu(t) : t => nn.functional.sigmoid(t));

        // The same float32 operations in the same order: only the matmul kernels' blocking may differ (1e-6 is ample
        // for outputs of order 1).
        Assert.True(mask.sub(expected).abs().max().item<float>() < 1e-6f);
        if (activation == MaskActivation.Relu)
        {
            // Unbounded and non-negative: with random weights some bins are cut to exactly 0.
            Assert.True(mask.min().item<float>() == 0);
        }
        else
        {
            Assert.True(mask.min().item<float>() > 0 && mask.max().item<float>() < 1);
        }
    }

    [Fact]
    public void Forward_RawMagnitudeInput_DiffersFromLog1p()
    {
        // Guards against the input option being ignored: the same weights read log1p|X| or |X| and give other masks.
        using var log = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 16, Dropout: 0));
        using var raw = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 16, Dropout: 0) { Input = MaskInput.Magnitude });
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        raw.load_state_dict(log.state_dict());
        Tensor x = rand(1, 3, 513) * 10;

        Assert.True(log.forward(x).sub(raw.forward(x)).abs().max().item<float>() > 1e-3f);
    }

    [Fact]
    public void ForwardContinued_GruWithRawInputAndRelu_PiecesEqualWhole()
    {
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8) { Input = MaskInput.Magnitude, Activation = MaskActivation.Relu, RefinerChannels = 2 });
        network.eval();
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 7, 513) * 3;

        Tensor whole = network.forward(x);
        Tensor a = network.ForwardContinued(x.narrow(1, 0, 3), null, out Tensor? s1);
        Tensor b = network.ForwardContinued(x.narrow(1, 3, 4), s1, out _);

        // Same operations frame by frame; matmul blocking may differ between 3-, 4- and 7-frame calls: 1e-6.
        Assert.True(cat([a, b], 1).sub(whole).abs().max().item<float>() < 1e-6f);
        Assert.True(whole.min().item<float>() >= 0);
    }

    [Fact]
    public void Measure_RawMagnitude_GivesStatisticsOfTheMagnitudeAndRecordsTheKind()
    {
        float[] tone = DenoisingFixtures.Tone(8000), noise = DenoisingFixtures.Noise(8000);
        float[][] signals = [tone, noise];

        FeatureStatistics raw = MaskFeatures.Measure(signals, MaskInput.Magnitude);
        FeatureStatistics log = MaskFeatures.Measure(signals);

        using var scope = NewDisposeScope();
        Tensor f = cat(signals.Select(s => DenoisingStft.Forward(tensor(s).unsqueeze(0)).abs().squeeze(0)).ToArray(), 0);
        float[] mean = f.mean([0]).data<float>().ToArray();
        // float32 magnitudes (up to ~100 for the tone) summed in float64 vs torch's float32 mean over 32 frames: the
        // relative error is ~1e-6, so 1e-3 absolute is a generous bound at this scale.
        Assert.True(DenoisingFixtures.MaxAbsDifference(mean, raw.Mean) < 1e-3f);
        Assert.Equal(MaskInput.Magnitude, raw.Input);
        Assert.Equal(MaskInput.Log1pMagnitude, log.Input);
        Assert.True(raw.Mean.Max() > log.Mean.Max() + 1, "the raw magnitude's bins reach far above their log1p");
    }

    [Fact]
    public void SetInputStatistics_OfAnotherInputKind_ThrowsNamingBoth()
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 8) { NormalizeInput = true, Input = MaskInput.Magnitude });
        FeatureStatistics log = MaskFeatures.Measure([DenoisingFixtures.Tone(4000)]);

        var e = Assert.Throws<ArgumentException>(() => network.SetInputStatistics(log));

        Assert.Contains("Expected statistics of the network's input (Magnitude); found statistics of Log1pMagnitude", e.Message);
        network.SetInputStatistics(MaskFeatures.Measure([DenoisingFixtures.Tone(4000)], MaskInput.Magnitude));
    }

    [Fact]
    public void Options_ReluWithMaskScaleOrUndefinedKinds_ListsEveryBadField()
    {
        var relu = Assert.Throws<ArgumentException>(() => new FcMaskNetwork(new FcMaskNetworkOptions { Activation = MaskActivation.Relu, MaskScale = 2 }));
        var undefined = Assert.Throws<ArgumentException>(() => new GruMaskNetwork(new GruMaskNetworkOptions { Input = (MaskInput)7, Activation = (MaskActivation)9 }));

        Assert.Contains("MaskScale must be 1 with Activation = Relu", relu.Message);
        Assert.Contains("found 2", relu.Message);
        Assert.Contains("Input must be one of Log1pMagnitude, Magnitude (found 7)", undefined.Message);
        Assert.Contains("Activation must be one of Sigmoid, Relu (found 9)", undefined.Message);
    }

    [Fact]
    public void SaveLoad_RawInputReluNetwork_KeepsTheSettingsAndTheOutput()
    {
        using var temp = new TempFolder();
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8) { Input = MaskInput.Magnitude, Activation = MaskActivation.Relu, NormalizeInput = true });
        network.SetInputStatistics(MaskFeatures.Measure([DenoisingFixtures.Noise(6000)], MaskInput.Magnitude));
        network.eval();
        string path = temp.File("raw-relu.ckpt");
        DenoisingModels.Save(path, network);

        (IMaskNetwork loaded, _) = DenoisingModels.Load(path);
        using var loadedModule = (nn.Module)loaded;
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        Tensor x = rand(1, 4, 513) * 2;

        var options = ((GruMaskNetwork)loaded).Options;
        Assert.Equal(MaskInput.Magnitude, options.Input);
        Assert.Equal(MaskActivation.Relu, options.Activation);
        // The sidecar names them as the options JSON does everywhere (snake_case enum values).
        string sidecar = File.ReadAllText(path + ".json");
        Assert.Contains("\"input\": \"magnitude\"", sidecar);
        Assert.Contains("\"activation\": \"relu\"", sidecar);
        // Same weights and statistics, same operations: the loaded network's output is the saved one's exactly.
        Assert.True(loaded.forward(x).sub(network.forward(x)).abs().max().item<float>() == 0);
    }

    /// <summary>An FC network with a ReLU mask that is <paramref name="gain"/> in every bin: fc3's bias, every other weight 0.</summary>
    private static FcMaskNetwork ConstantReluMask(float gain)
    {
        var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 4, Dropout: 0) { Activation = MaskActivation.Relu });
        using var guard = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
        {
            parameter.fill_(name == "fc3.bias" ? gain : 0f);
        }

        return network;
    }

    [Fact]
    public void Denoise_ReluMaskThatOverflowsFloat32_ThrowsInsteadOfReturningNaN()
    {
        // 3e38 is a finite float32, but times the noisy magnitude it is not: the inverse FFT then gives NaN (∞ − ∞), which
        // Denoise would return and a 16-bit WAV would store as silence. A sigmoid mask is bounded; a ReLU mask is not.
        float[] noisy = DenoisingFixtures.Add(DenoisingFixtures.Tone(8000), DenoisingFixtures.Noise(8000));
        using var denoiser = new Denoiser(ConstantReluMask(3e38f));
        using IStreamingDenoiser stream = denoiser.CreateStream();

        var whole = Assert.Throws<InvalidOperationException>(() => denoiser.Denoise(noisy, DenoisingFixtures.Rate));
        var streamed = Assert.Throws<InvalidOperationException>(() => stream.Process(noisy));

        Assert.All(new[] { whole, streamed }, e =>
        {
            Assert.Contains("Expected finite samples from FcMaskNetwork ('fc-mask'): the masked spectrum of frame 0 inverts to", e.Message);
            Assert.Contains("the mask reaches 3E+38", e.Message);
        });
    }

    [Fact]
    public void DenoiseFile_ReluMaskThatOverflowsFloat32_ThrowsAndWritesNothing()
    {
        using var folder = new TempFolder();
        string input = folder.File("noisy.wav");
        Dls.Audio.IO.WavFile.Write(input, DenoisingFixtures.Add(DenoisingFixtures.Tone(8000), DenoisingFixtures.Noise(8000)), DenoisingFixtures.Rate);
        using var denoiser = new Denoiser(ConstantReluMask(3e38f));

        var e = Assert.Throws<InvalidOperationException>(() => denoiser.DenoiseFile(input, folder.File("out.wav")));

        Assert.Contains("Expected finite samples from FcMaskNetwork ('fc-mask')", e.Message);
        Assert.Equal(["noisy.wav"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Denoise_LargeFiniteReluMask_ScalesTheInputAndIsNotRefused()
    {
        // A mask of 100 in every bin is the input × 100 (the STFT is linear and inverts exactly): a gain far above 1 is
        // what the network says, not an error; a 16-bit WAV then clips it (AudioFile.Save).
        float[] noisy = DenoisingFixtures.Add(DenoisingFixtures.Tone(8000), DenoisingFixtures.Noise(8000));
        using var denoiser = new Denoiser(ConstantReluMask(100f));

        float[] output = denoiser.Denoise(noisy, DenoisingFixtures.Rate);

        // float32 STFT and inverse of samples ~1, times 100: 1e-3 absolute is ~1e-5 relative.
        Assert.True(DenoisingFixtures.MaxAbsDifference(output, noisy.Select(x => 100 * x).ToArray()) < 1e-3f);
    }

    [Fact]
    public void Create_OptionsWithoutTheNewKeys_DefaultToLog1pAndSigmoid()
    {
        // Checkpoints written before the settings existed have neither key: they must keep meaning what they meant.
        using var module = ModelArchitectures.Create(new ModelDescription(FcMaskNetwork.ArchitectureName, new System.Text.Json.Nodes.JsonObject { ["hidden_size"] = 8 }));

        var options = ((FcMaskNetwork)module).Options;
        Assert.Equal(MaskInput.Log1pMagnitude, options.Input);
        Assert.Equal(MaskActivation.Sigmoid, options.Activation);
    }
}
