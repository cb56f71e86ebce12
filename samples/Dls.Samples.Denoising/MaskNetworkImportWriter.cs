using System.Text.Json.Nodes;
using Dls.Models.Denoising;
using Dls.Samples.Abstractions;
using TorchSharp;

namespace Dls.Samples.Denoising;

/// <summary>
/// <c>weights import</c> of a mask network: saved with the denoiser's metadata, which <c>denoise --model</c> and
/// <c>AddDlsDenoiser</c> require (<see cref="DenoisingModels.Load"/> refuses a checkpoint without a sample rate).
/// </summary>
internal sealed class MaskNetworkImportWriter : IImportedModelWriter
{
    public IReadOnlyCollection<string> Architectures => DenoisingModels.Architectures;

    public IReadOnlyCollection<string> Settings => [];

    public IReadOnlyList<string> Check(string architecture, JsonObject settings) => [];

    public IReadOnlyList<string> Save(string path, torch.nn.Module model, JsonObject metadata, JsonObject? settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is not IMaskNetwork network)
        {
            throw new ArgumentException($"Expected a mask network ({string.Join(", ", Architectures)}), found a {model.GetType().Name}.", nameof(model));
        }

        if (settings is { Count: > 0 })
        {
            throw new ArgumentException($"A mask network takes no import settings, found [{string.Join(", ", settings.Select(p => p.Key))}].", nameof(settings));
        }

        // The library's networks run at 16 kHz with n_fft 1024, hop 512 (DenoisingStft); a PyTorch network trained for the
        // assignment used the same, and the checkpoint has to say so. DenoisingModels.Save refuses a network over other bins,
        // which no denoiser runs.
        DenoisingModels.Save(path, network, Denoiser.DefaultSampleRate, metadata);
        return [$"denoiser checkpoint ({Denoiser.DefaultSampleRate} Hz, n_fft {DenoisingStft.FftLength}, hop {DenoisingStft.HopLength}): denoise --model {path} takes it"];
    }
}
