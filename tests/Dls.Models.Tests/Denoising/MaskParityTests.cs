using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Denoising;

/// <summary>
/// A mask network trained in PyTorch on the raw magnitude with a ReLU mask denoises in Dls as it did there:
/// <c>TestData/parity/mask_fc_relu.pth</c> was written by <c>make_mask_parity.py</c> (PyTorch 1.13, an
/// <c>nn.Sequential</c> 513 → 16 → 16 → 513 saved with <c>torch.save(model.state_dict())</c>) beside the mask and the
/// denoised waveform PyTorch computed with <c>torch.stft</c>/<c>torch.istft</c> for a fixed signal.
/// </summary>
public sealed class MaskParityTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "parity");

    private static float[] Floats(JsonNode node) => node.AsArray().Select(v => (float)v!).ToArray();

    private static float[] Rows(JsonNode node) => node.AsArray().SelectMany(r => Floats(r!)).ToArray();

    private static FcMaskNetwork Import(MaskInput input, MaskActivation activation)
    {
        var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 16, Dropout: 0) { Input = input, Activation = activation });
        using StateDictFile file = PyTorchFile.Read(Path.Combine(Folder, "mask_fc_relu.pth"));
        // nn.Sequential(Linear, ReLU, Linear, ReLU, Linear, ReLU): the Linear layers are items 0, 2 and 4.
        StateDictImport.LoadInto(network, file, new StateDictImportOptions
        {
            Rename = name => name.Split('.') is [var item, var kind] ? $"fc{(int.Parse(item) / 2) + 1}.{kind}" : null,
        });
        network.eval();
        return network;
    }

    [Fact]
    public void FcMask_RawMagnitudeReluFromPyTorch_GivesPyTorchsMaskAndDenoisedWaveform()
    {
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "mask_fc_relu.json")))!.AsObject();
        float[] waveform = Floats(golden["waveform"]!);
        float[] expectedMask = Rows(golden["mask"]!);
        float[] expectedDenoised = Floats(golden["denoised"]!);
        using var denoiser = new Denoiser(Import(MaskInput.Magnitude, MaskActivation.Relu), (int)golden["sample_rate"]!);
        using FcMaskNetwork network = Import(MaskInput.Magnitude, MaskActivation.Relu);

        float[] mask;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            mask = network.forward(DenoisingStft.Forward(tensor(waveform).unsqueeze(0)).abs()).data<float>().ToArray();
        }

        float[] denoised = denoiser.Denoise(waveform, denoiser.SampleRate);

        // Both sides compute in float32 and differ in summation order only: the raw magnitudes reach ~77 (a 0.3-amplitude
        // tone through a 1024-point Hann window: 0.3 · 1024 / 4) and the first layer sums 513 such products. Measured here:
        // 1.2e-6 on the mask (largest 1.38) and 2.8e-7 on the waveform (largest 0.15), about 1e-6 relative; 2e-5 of the
        // largest value leaves room for other BLAS kernels. A wrong input kind (log1p instead of |X|), activation or layer
        // order differs by 1e-1 or more (the next test).
        Assert.Equal(expectedMask.Length, mask.Length);
        float maskScale = expectedMask.Max(Math.Abs);
        Assert.True(DenoisingFixtures.MaxAbsDifference(expectedMask, mask) < 2e-5f * maskScale, $"mask differs by {DenoisingFixtures.MaxAbsDifference(expectedMask, mask)} (largest value {maskScale})");
        Assert.Contains(expectedMask, v => v == 0);   // the ReLU cut some bins, so the activation is exercised
        Assert.Equal(expectedDenoised.Length, denoised.Length);
        float waveScale = expectedDenoised.Max(Math.Abs);
        Assert.True(DenoisingFixtures.MaxAbsDifference(expectedDenoised, denoised) < 2e-5f * waveScale, $"denoised differs by {DenoisingFixtures.MaxAbsDifference(expectedDenoised, denoised)} (largest value {waveScale})");
    }

    [Fact]
    public void FcMask_SameWeightsWithTheDefaultInputAndActivation_DoNotMatch()
    {
        // The control for the test above: the weights alone do not make the parity; the two settings do.
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "mask_fc_relu.json")))!.AsObject();
        float[] waveform = Floats(golden["waveform"]!);
        float[] expectedMask = Rows(golden["mask"]!);
        using FcMaskNetwork network = Import(MaskInput.Log1pMagnitude, MaskActivation.Sigmoid);
        using var scope = NewDisposeScope();
        using var guard = no_grad();

        float[] mask = network.forward(DenoisingStft.Forward(tensor(waveform).unsqueeze(0)).abs()).data<float>().ToArray();

        Assert.True(DenoisingFixtures.MaxAbsDifference(expectedMask, mask) > 0.1f);
    }
}
