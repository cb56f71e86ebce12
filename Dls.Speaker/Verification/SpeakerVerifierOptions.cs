namespace Dls.Speaker.Verification;

/// <summary>
/// Options of the DI-registered <see cref="ISpeakerVerifier"/> (validated at host start or on first use, every problem
/// listed; a model file's sidecar is read and checked, its weights are not loaded).
/// </summary>
public sealed class SpeakerVerifierOptions
{
    /// <summary>
    /// A speaker model saved by <see cref="SpeakerModelFile.Save"/>; null uses the model shipped with Dls.Speaker. A relative path is resolved against the process's current directory when the options are validated and the model
    /// is loaded — not against a host's content root; a service started from another directory should give an absolute path
    /// (e.g. combined with <c>IHostEnvironment.ContentRootPath</c>). Messages name the absolute path looked up.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>The decision threshold (cosine, in [−1, 1]); null uses the model's calibrated EER threshold.</summary>
    public double? Threshold { get; set; }

    /// <summary>Input handling (windowing, minimum duration, silence level).</summary>
    public SpeakerEmbedderOptions Embedder { get; set; } = new();

    /// <summary>Every problem with these options, empty when valid (reads the sidecar of <see cref="ModelPath"/>).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ModelPath is not null)
        {
            if (string.IsNullOrWhiteSpace(ModelPath)) errors.Add("ModelPath must be null (shipped model) or a file path, found an empty string.");
            else if (!File.Exists(ModelPath)) errors.Add($"ModelPath: expected an existing speaker model file, found nothing at '{Path.GetFullPath(ModelPath)}'.");
            else
            {
                // The sidecar is small: reading it now reports a missing sidecar, another architecture or a bad threshold
                // at start rather than at the first resolve.
                try
                {
                    // Absolute, so that every message names the file read whatever directory a relative path meant.
                    SpeakerModelFile.ReadInfo(Path.GetFullPath(ModelPath));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    errors.Add($"ModelPath: {e.Message}");
                }
            }
        }
        if (Threshold is { } t && !(t >= -1 && t <= 1)) errors.Add($"Threshold must be in [−1, 1] (a cosine) or null, found {t}.");
        if (Embedder is null) errors.Add("Embedder must not be null.");
        else errors.AddRange(Embedder.Validate().Select(e => "Embedder." + e));
        return errors;
    }
}
