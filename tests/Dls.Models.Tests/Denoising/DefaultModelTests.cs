using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class DefaultModelTests
{
    [Fact]
    public void LoadDefault_ShippedCheckpoint_IsSmallCausalGruThatDenoises()
    {
        string path = DenoisingModels.ExtractDefault();
        using Denoiser denoiser = Denoiser.LoadDefault();
        float[] clean = DenoisingFixtures.Tone(16000), noise = DenoisingFixtures.Noise(16000, amplitude: 0.2);

        float[] output = denoiser.Denoise(DenoisingFixtures.Add(clean, noise), 16000);

        // The repository budget for the shipped denoising model is about 2.5 MB (the whole repository stays under ~30 MB).
        Assert.True(new FileInfo(path).Length <= 2_500_000, $"{new FileInfo(path).Length} bytes");
        Assert.Equal(GruMaskNetwork.ArchitectureName, denoiser.Architecture);
        // Causal, so its stream waits less than one window; trained with standardised input.
        Assert.Equal(0, denoiser.Network.LookaheadFrames);
        Assert.True(denoiser.Network.NormalizesInput);
        using (IStreamingDenoiser stream = denoiser.CreateStream())
        {
            Assert.Equal(1023, stream.MaxLatencySamples);
        }

        Assert.Equal(16000, denoiser.SampleRate);
        Assert.Equal(clean.Length, output.Length);
        // A trained mask removes part of loud white noise from a harmonic tone: the output must be closer to the clean
        // signal than the input was (any learned mask does this; the figure itself is measured by denoise-eval).
        double inputError = clean.Zip(noise, (c, n) => (double)n * n).Sum();
        double outputError = clean.Zip(output, (c, o) => (double)(c - o) * (c - o)).Sum();
        Assert.True(outputError < inputError, $"output error {outputError} vs input error {inputError}");
    }
}
