using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Saving, loading and registering the mask networks (checkpoints of <see cref="Checkpoint"/>).</summary>
public static class DenoisingModels
{
    /// <summary>Metadata key holding the sample rate (Hz) a network was trained at.</summary>
    public const string SampleRateKey = "sample_rate";

    private const string DefaultResourcePrefix = "Dls.Models.Denoising.DefaultModel.";
    private const string DefaultFileName = "denoise-default.ckpt";

    static DenoisingModels()
    {
        ModelArchitectures.Register<FcMaskNetworkOptions>(FcMaskNetwork.ArchitectureName, o => new FcMaskNetwork(o));
        ModelArchitectures.Register<GruMaskNetworkOptions>(GruMaskNetwork.ArchitectureName, o => new GruMaskNetwork(o));
    }

    /// <summary>The mask-network architecture names.</summary>
    public static IReadOnlyList<string> Architectures { get; } = [FcMaskNetwork.ArchitectureName, GruMaskNetwork.ArchitectureName];

    /// <summary>
    /// Registers the mask networks in <see cref="ModelArchitectures"/> so that <see cref="Checkpoint.Load(string)"/>
    /// can rebuild them. Idempotent; called by every loading path and by <c>AddDlsDenoiser</c>.
    /// </summary>
    public static void RegisterArchitectures()
    {
        // The static constructor does the work exactly once; touching a member runs it.
        _ = Architectures.Count;
    }

    /// <summary>Saves a network with its architecture, options and sample rate.</summary>
    /// <param name="path">The weights file; the JSON sidecar goes next to it.</param>
    /// <param name="network">A mask network module.</param>
    /// <param name="sampleRate">The rate it was trained at, in Hz.</param>
    /// <param name="metadata">Extra metadata to store (e.g. validation figures).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="ArgumentException">The network is not a TorchSharp module, or reads another number of bins than
    /// the denoiser's STFT gives (<see cref="DenoisingStft.Bins"/>); nothing is written.</exception>
    public static CheckpointInfo Save(string path, IMaskNetwork network, int sampleRate = Denoiser.DefaultSampleRate, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        var module = network as nn.Module ?? throw new ArgumentException($"Expected a TorchSharp module; found {network.GetType().Name}.", nameof(network));
        if (network.Bins != DenoisingStft.Bins)
        {
            // The checkpoint states n_fft 1024 below, and Load refuses any other number of bins: such a file would be no denoiser.
            throw new ArgumentException(
                $"A denoiser's mask network reads {DenoisingStft.Bins} bins (n_fft {DenoisingStft.FftLength}, hop {DenoisingStft.HopLength}); found a {network.Architecture} over {network.Bins} bins; nothing was written.",
                nameof(network));
        }

        JsonObject meta = metadata?.DeepClone().AsObject() ?? [];
        meta[SampleRateKey] = sampleRate;
        meta["n_fft"] = DenoisingStft.FftLength;
        meta["hop_length"] = DenoisingStft.HopLength;
        return Checkpoint.Save(path, module, meta);
    }

    /// <summary>Loads a mask network checkpoint.</summary>
    /// <param name="path">The weights file (with its <c>.json</c> sidecar).</param>
    /// <returns>The network (in eval mode) and its sample rate.</returns>
    /// <exception cref="FileNotFoundException">The file or its sidecar is missing.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is malformed or holds another architecture.</exception>
    public static (IMaskNetwork Network, int SampleRate) Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model checkpoint '{Path.GetFullPath(path)}' does not exist.", path);
        }

        CheckpointInfo info = ReadMaskInfo(path);
        (nn.Module model, _) = Checkpoint.Load(path);
        return ((IMaskNetwork)model, SampleRateOf(info, path));
    }

    /// <summary>Loads the default model shipped inside this library.</summary>
    /// <returns>The network (in eval mode) and its sample rate.</returns>
    public static (IMaskNetwork Network, int SampleRate) LoadDefault() => Load(ExtractDefault());

    /// <summary>Reads a checkpoint's sidecar and checks that it holds a mask network.</summary>
    /// <param name="path">The weights file.</param>
    /// <returns>The sidecar contents.</returns>
    /// <exception cref="InvalidDataException">
    /// Another architecture or none recorded; network options that are missing, malformed or out of range; a network over
    /// another number of bins than the denoiser's STFT gives (<see cref="DenoisingStft.Bins"/>); no positive sample rate.
    /// </exception>
    public static CheckpointInfo ReadMaskInfo(string path)
    {
        RegisterArchitectures();
        CheckpointInfo info = Checkpoint.ReadInfo(path);
        if (info.Architecture is null || !Architectures.Contains(info.Architecture))
        {
            throw new InvalidDataException(
                $"Checkpoint '{path}' holds architecture '{info.Architecture ?? "(none)"}'; a denoiser needs one of [{string.Join(", ", Architectures)}].");
        }

        // The sidecar alone shows a network the denoiser cannot run, so that options validation reports it at start
        // (instead of a shape mismatch of some weight when the model is first loaded).
        int bins = MaskOptionsOf(info, path);
        if (bins != DenoisingStft.Bins)
        {
            throw new InvalidDataException(
                $"Checkpoint '{path}' ({info.Architecture}) is a network over {bins} bins; a denoiser needs {DenoisingStft.Bins} (n_fft {DenoisingStft.FftLength}).");
        }

        _ = SampleRateOf(info, path);
        return info;
    }

    /// <summary>Reads and validates the sidecar's network options; returns their bin count.</summary>
    private static int MaskOptionsOf(CheckpointInfo info, string path)
    {
        try
        {
            if (info.Options is null)
            {
                throw new InvalidDataException("no options recorded");
            }

            if (info.Architecture == FcMaskNetwork.ArchitectureName)
            {
                var fc = info.Options.Deserialize<FcMaskNetworkOptions>(ModelArchitectures.JsonOptions) ?? throw new InvalidDataException("options are null");
                fc.Validate();
                return fc.Bins;
            }

            var gru = info.Options.Deserialize<GruMaskNetworkOptions>(ModelArchitectures.JsonOptions) ?? throw new InvalidDataException("options are null");
            gru.Validate();
            return gru.Bins;
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' ({info.Architecture}): the network options in its sidecar are not usable: {e.Message}", e);
        }
    }

    /// <summary>
    /// Copies the shipped default checkpoint (embedded in this assembly) to a per-content folder under the temporary
    /// directory, once, and returns its path (<see cref="Checkpoint.ExtractToTemporaryFolder"/>).
    /// </summary>
    /// <returns>The path of the extracted weights file.</returns>
    public static string ExtractDefault()
    {
        Assembly assembly = typeof(DenoisingModels).Assembly;
        return Checkpoint.ExtractToTemporaryFolder(DefaultFileName, ReadResource(assembly, DefaultFileName), ReadResource(assembly, DefaultFileName + ".json"));
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using Stream stream = assembly.GetManifestResourceStream(DefaultResourcePrefix + name)
            ?? throw new InvalidOperationException($"The default denoising model resource '{DefaultResourcePrefix + name}' is missing from {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static int SampleRateOf(CheckpointInfo info, string path)
    {
        int rate = info.Metadata.TryGetPropertyValue(SampleRateKey, out JsonNode? node) && node is JsonValue v && v.TryGetValue(out int r) ? r : 0;
        if (rate <= 0)
        {
            throw new InvalidDataException($"Checkpoint '{path}' has metadata '{SampleRateKey}' = {node?.ToJsonString() ?? "(missing)"}; expected a rate > 0 Hz.");
        }

        return rate;
    }
}
