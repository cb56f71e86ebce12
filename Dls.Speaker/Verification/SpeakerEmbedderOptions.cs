namespace Dls.Speaker.Verification;

/// <summary>How <see cref="SpeakerEmbedder"/> treats input audio. Immutable; <see cref="Validate"/> lists every problem.</summary>
public sealed record SpeakerEmbedderOptions
{
    /// <summary>
    /// Audio longer than this is embedded in windows of this length whose embeddings are averaged (Resemblyzer's
    /// "partials"), so memory stays bounded for any length. Default 3.0 s (the corpus' utterances are 1.5–2.5 s and are
    /// embedded whole).
    /// </summary>
    public double WindowSeconds { get; init; } = 3.0;

    /// <summary>Overlap of consecutive windows, as a fraction of the window. Default 0.5.</summary>
    public double WindowOverlap { get; init; } = 0.5;

    /// <summary>Windows embedded per forward pass (bounds memory for long audio). Default 16.</summary>
    public int MaxWindowsPerBatch { get; init; } = 16;

    /// <summary>Shortest accepted audio in seconds; shorter input is rejected. Default 0.5 s (16 frames at hop 512, 16 kHz).</summary>
    public double MinDurationSeconds { get; init; } = 0.5;

    /// <summary>Audio whose RMS level is below this many dBFS is rejected as silence. Default −60 dBFS.</summary>
    public double SilenceThresholdDbfs { get; init; } = -60.0;

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(WindowSeconds >= 0.5 && WindowSeconds <= 60)) errors.Add($"WindowSeconds must be in [0.5, 60] s, found {WindowSeconds}.");
        if (!(WindowOverlap >= 0 && WindowOverlap < 1)) errors.Add($"WindowOverlap must be in [0, 1), found {WindowOverlap}.");
        if (MaxWindowsPerBatch < 1) errors.Add($"MaxWindowsPerBatch must be ≥ 1, found {MaxWindowsPerBatch}.");
        if (!(MinDurationSeconds > 0 && MinDurationSeconds <= WindowSeconds)) errors.Add($"MinDurationSeconds must be in (0, WindowSeconds = {WindowSeconds}] s, found {MinDurationSeconds}.");
        if (!(SilenceThresholdDbfs < 0 && SilenceThresholdDbfs >= -200)) errors.Add($"SilenceThresholdDbfs must be in [−200, 0), found {SilenceThresholdDbfs}.");
        return errors;
    }
}
