namespace Dls.Speaker.Features;

/// <summary>What each STFT frame is turned into before the encoder.</summary>
public enum SpeakerFeatureKind
{
    /// <summary>log(|STFT| + floor), n_fft/2 + 1 bins (513 for n_fft 1024): the assignment's magnitude, log-compressed.</summary>
    LogMagnitude,

    /// <summary>|STFT| as it is (the assignment's literal feature; the encoder's input normalization rescales it).</summary>
    Magnitude,

    /// <summary>log(mel filterbank · |STFT|² + floor) with <see cref="SpeakerFeatureOptions.MelBins"/> bins.</summary>
    LogMel,
}

/// <summary>Feature settings of the speaker encoder (saved with the model so inference matches training).</summary>
public sealed record SpeakerFeatureOptions
{
    /// <summary>Sample rate the model works at, in Hz; other rates are resampled on load.</summary>
    public int SampleRate { get; init; } = 16000;

    /// <summary>FFT size in samples (1024 in the assignment, 64 ms at 16 kHz).</summary>
    public int NFft { get; init; } = 1024;

    /// <summary>Hop between frames in samples (512 in the assignment, 32 ms at 16 kHz).</summary>
    public int HopLength { get; init; } = 512;

    /// <summary>The feature kind.</summary>
    public SpeakerFeatureKind Kind { get; init; } = SpeakerFeatureKind.LogMagnitude;

    /// <summary>Mel bins for <see cref="SpeakerFeatureKind.LogMel"/>.</summary>
    public int MelBins { get; init; } = 64;

    /// <summary>
    /// Floor added before the logarithm. 1e-3 is about −60 dB below the magnitude of a full-scale sine in one bin of a
    /// 1024-point Hann STFT (≈ 256), which keeps silent gaps between words from dominating the features.
    /// </summary>
    public double LogFloor { get; init; } = 1e-3;

    /// <summary>Values per frame the encoder sees.</summary>
    public int FeatureSize => Kind == SpeakerFeatureKind.LogMel ? MelBins : NFft / 2 + 1;

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (SampleRate < 1000) errors.Add($"SampleRate must be ≥ 1000 Hz, found {SampleRate}.");
        if (NFft < 16) errors.Add($"NFft must be ≥ 16 samples, found {NFft}.");
        if (HopLength < 1 || HopLength > NFft) errors.Add($"HopLength must be in [1, NFft = {NFft}] samples, found {HopLength}.");
        if (Kind == SpeakerFeatureKind.LogMel && (MelBins < 1 || MelBins > NFft / 2 + 1))
            errors.Add($"MelBins must be in [1, NFft/2 + 1 = {NFft / 2 + 1}], found {MelBins}.");
        if (!(LogFloor > 0)) errors.Add($"LogFloor must be > 0, found {LogFloor}.");
        if (!Enum.IsDefined(Kind)) errors.Add($"Kind must be a defined SpeakerFeatureKind, found {(int)Kind}.");
        return errors;
    }
}
