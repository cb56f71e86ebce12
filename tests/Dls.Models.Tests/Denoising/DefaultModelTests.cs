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

    [Fact]
    public void ShippedDefault_RepeatedAndConcurrentCalls_BitIdentical()
    {
        // The shipped default, called again serially and from four threads at once, each call on a new managed copy;
        // 2.5 s of audio in batches of 32 frames crosses batch boundaries (GRU state carried). Same data, same
        // operations, so the tolerance is zero: what a caller gets must not depend on when, from which thread or from
        // which array it calls.
        using Denoiser denoiser = Denoiser.LoadDefault(maxFramesPerBatch: 32);
        float[] noisy = DenoisingFixtures.Add(DenoisingFixtures.Tone(40000), DenoisingFixtures.Noise(40000, amplitude: 0.2));
        float[] first = denoiser.Denoise(noisy, 16000);
        void Check(int call) => Assert.True(denoiser.Denoise(noisy.ToArray(), 16000).AsSpan().SequenceEqual(first), $"call {call} differed");
        for (int i = 0; i < 3; i++) Check(i);
        Parallel.For(3, 11, new ParallelOptions { MaxDegreeOfParallelism = 4 }, Check);
    }
}
