using Microsoft.Extensions.Options;

namespace Dls.Models.Denoising;

/// <summary>Settings of the <see cref="IDenoiser"/> registered by <c>AddDlsDenoiser</c>.</summary>
public sealed class DenoiserOptions
{
    /// <summary>
    /// The mask-network checkpoint to load; <c>null</c> uses the default model shipped in this library. A relative path is resolved against the process's current directory when the options are validated and the model
    /// is loaded — not against a host's content root; a service started from another directory should give an absolute path
    /// (e.g. combined with <c>IHostEnvironment.ContentRootPath</c>). Messages name the absolute path looked up.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>Most STFT frames given to the network at once (bounds memory; 1024 frames ≈ 33 s at 16 kHz). Must be in
    /// [1, <see cref="Denoiser.MaxFramesPerBatchLimit"/>].</summary>
    public int MaxFramesPerBatch { get; set; } = 1024;

    /// <summary>Sample rate in Hz of files written by <see cref="IDenoiser.DenoiseFile"/>; <c>null</c> keeps the input's rate. Must be &gt; 0.</summary>
    public int? OutputSampleRate { get; set; }
}

/// <summary>Checks <see cref="DenoiserOptions"/> (run on start), naming the bad option in each message.</summary>
internal sealed class DenoiserOptionsValidator : IValidateOptions<DenoiserOptions>
{
    public ValidateOptionsResult Validate(string? name, DenoiserOptions options)
    {
        var errors = new List<string>();
        if (options.MaxFramesPerBatch is <= 0 or > Denoiser.MaxFramesPerBatchLimit)
        {
            errors.Add($"{nameof(DenoiserOptions)}.{nameof(DenoiserOptions.MaxFramesPerBatch)} must be in [1, {Denoiser.MaxFramesPerBatchLimit}] (found {options.MaxFramesPerBatch}).");
        }

        if (options.OutputSampleRate is int rate && rate <= 0)
        {
            errors.Add($"{nameof(DenoiserOptions)}.{nameof(DenoiserOptions.OutputSampleRate)} must be > 0 Hz (found {rate}).");
        }

        if (options.ModelPath is not null)
        {
            string what = $"{nameof(DenoiserOptions)}.{nameof(DenoiserOptions.ModelPath)}";
            if (string.IsNullOrWhiteSpace(options.ModelPath))
            {
                errors.Add($"{what} is empty; set a checkpoint path or leave it null for the shipped default model.");
            }
            else if (!File.Exists(options.ModelPath))
            {
                errors.Add($"{what}: checkpoint '{Path.GetFullPath(options.ModelPath)}' does not exist.");
            }
            else
            {
                try
                {
                    // Through the absolute path, so that every message names the file that was read, whatever the
                    // current directory a relative path was resolved against.
                    DenoisingModels.ReadMaskInfo(Path.GetFullPath(options.ModelPath));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{what}: {e.Message}");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
