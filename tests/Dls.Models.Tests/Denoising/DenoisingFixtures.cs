using Dls.Audio;
using Dls.Audio.IO;
using Dls.Compression.LowRank;
using Dls.Models.Denoising;
using TorchSharp;

namespace Dls.Models.Tests.Denoising;

/// <summary>Small synthetic signals, tiny networks and temporary folders for the denoising tests.</summary>
internal static class DenoisingFixtures
{
    public const int Rate = 16000;

    /// <summary>A harmonic tone with a gliding pitch (speech-like enough for masks to matter).</summary>
    public static float[] Tone(int length, int seed = 1)
    {
        var rng = new Random(seed);
        double f0 = 100 + (rng.NextDouble() * 100), phase = 0;
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            phase += 2 * Math.PI * (f0 + (30 * Math.Sin(2 * Math.PI * 2 * i / Rate))) / Rate;
            x[i] = (float)((0.3 * Math.Sin(phase)) + (0.15 * Math.Sin(3 * phase)));
        }

        return x;
    }

    public static float[] Noise(int length, int seed = 2, double amplitude = 0.1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(amplitude * ((rng.NextDouble() * 2) - 1))).ToArray();
    }

    public static float[] Add(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    public static IMaskNetwork TinyGru() => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8));

    /// <summary>A tiny two-layer GRU with lookahead, input standardisation (non-trivial statistics) and a mask bound of 1.5.</summary>
    public static IMaskNetwork TinyLookaheadGru(int lookahead = 2)
    {
        var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8) { Layers = 2, LookaheadFrames = lookahead, InputSkip = true, NormalizeInput = true, MaskScale = 1.5 });
        network.SetInputStatistics(new FeatureStatistics(Enumerable.Range(0, 513).Select(b => 0.1f * (b % 7)).ToArray(), Enumerable.Range(0, 513).Select(b => 0.5f + (0.01f * (b % 11))).ToArray()));
        return network;
    }

    /// <summary>A tiny causal GRU with input skip, standardisation (non-trivial statistics) and a mask refiner of 4 channels over 3 frames × 5 bins.</summary>
    public static IMaskNetwork TinyRefinedGru()
    {
        var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 8) { InputSkip = true, NormalizeInput = true, RefinerChannels = 4, RefinerFrames = 3, RefinerBins = 5 });
        network.SetInputStatistics(new FeatureStatistics(Enumerable.Range(0, 513).Select(b => 0.1f * (b % 7)).ToArray(), Enumerable.Range(0, 513).Select(b => 0.5f + (0.01f * (b % 11))).ToArray()));
        return network;
    }

    /// <summary>
    /// Compresses <paramref name="network"/> to a fixed rank, saves and reloads it; returns the reloaded network and the
    /// largest difference of the two networks' masks on a random input (the caller disposes both networks).
    /// </summary>
    public static (GruMaskNetwork Loaded, float MaxDifference) CompressSaveReload(GruMaskNetwork network, int rank)
    {
        using var temp = new TempFolder();
        ModelCompressor.Compress(network, CompressionPolicy.FixedRank(rank));
        network.eval();
        string path = temp.File("gru.ckpt");
        DenoisingModels.Save(path, network);
        var loaded = (GruMaskNetwork)DenoisingModels.Load(path).Network;
        using var scope = torch.NewDisposeScope();
        using var guard = torch.no_grad();
        torch.Tensor x = torch.rand(1, 6, 513);
        return (loaded, network.forward(x).sub(loaded.forward(x)).abs().max().item<float>());
    }

    public static IMaskNetwork TinyFc() => new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 16, Dropout: 0));

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    /// <summary>Writes a homework-layout folder of <paramref name="pairs"/> test pairs (tex/tes/ten).</summary>
    public static void WriteHomework(string folder, int pairs, string set = "e")
    {
        Directory.CreateDirectory(folder);
        for (int i = 0; i < pairs; i++)
        {
            float[] clean = Tone(12000 + (i * 1000), i + 10), noise = Noise(clean.Length, i + 20);
            AudioFile.Save(Path.Combine(folder, $"t{set}s{i:D4}.wav"), new AudioSignal(clean, Rate));
            AudioFile.Save(Path.Combine(folder, $"t{set}n{i:D4}.wav"), new AudioSignal(noise, Rate));
            AudioFile.Save(Path.Combine(folder, $"t{set}x{i:D4}.wav"), new AudioSignal(Add(clean, noise), Rate));
        }
    }
}

/// <summary>
/// An <see cref="IMaskNetwork"/> that is not a TorchSharp module: the denoiser and the checkpoint code need one (to switch
/// it to eval mode, dispose and save it). Never run.
/// </summary>
internal sealed class PlainMaskNetwork : IMaskNetwork
{
    public string Architecture => "plain";

    public int Bins => 513;

    public int LookaheadFrames => 0;

    public bool NormalizesInput => false;

    public torch.Tensor Flush(torch.Tensor? state, long batch) => throw new NotSupportedException();

    public void SetInputStatistics(FeatureStatistics statistics) => throw new NotSupportedException();

    public torch.Tensor forward(torch.Tensor magnitude) => throw new NotSupportedException();

    public torch.Tensor ForwardContinued(torch.Tensor magnitude, torch.Tensor? state, out torch.Tensor? nextState) => throw new NotSupportedException();
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dls-denoise-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
