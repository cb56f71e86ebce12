namespace Dls.Speaker.Training;

/// <summary>How epochs whose validation EER ties are ranked.</summary>
public enum SelectionTieBreak
{
    /// <summary>The lower balanced validation pair loss wins.</summary>
    ValidationLoss,

    /// <summary>
    /// The later epoch wins. With a few validation speakers the EER reaches 0 early and stays there; the validation loss of
    /// such easy speakers then prefers early, less regularized epochs, while trials of close voices keep improving.
    /// </summary>
    LatestEpoch,
}

/// <summary>A two-band frequency warp of <see cref="SpeakerTrainingOptions.BandWarps"/>.</summary>
/// <param name="Low">Warp factor up to the knee bin (as <see cref="FrequencyWarp"/>: &gt; 1 moves content down).</param>
/// <param name="High">Warp factor above the knee bin.</param>
public readonly record struct BandWarp(double Low, double High);

/// <summary>How Siamese pairs are drawn and scored during training. Immutable; <see cref="Validate"/> lists every problem.</summary>
public sealed record SpeakerTrainingOptions
{
    /// <summary>Balanced same/different pairs drawn per epoch (<see cref="Data.PairSampler"/>). Default 1024.</summary>
    public int PairsPerEpoch { get; init; } = 1024;

    /// <summary>
    /// Drawn pairs per batch (2 × this many utterances are embedded). Besides the drawn pairs, every other pair of
    /// utterances in the batch is scored too (its label is known from the speaker ids); same- and different-speaker
    /// pairs are weighted ½ each so the loss stays balanced. Default 32.
    /// </summary>
    public int PairsPerBatch { get; init; } = 32;

    /// <summary>
    /// 0 (default) draws balanced pairs (<see cref="PairsPerBatch"/> per batch). n &gt; 0 builds each batch from n
    /// identities — a (speaker, warp factor) drawn without replacement — with <see cref="UtterancesPerSpeaker"/> utterances
    /// each (the batch layout of GE2E, Wan et al. 2018), and scores every pair among them; an epoch then embeds as many
    /// utterances as the pair mode would, 2 · <see cref="PairsPerEpoch"/>.
    /// </summary>
    public int SpeakersPerBatch { get; init; }

    /// <summary>Utterances per identity in a batch when <see cref="SpeakersPerBatch"/> &gt; 0. Default 4.</summary>
    public int UtterancesPerSpeaker { get; init; } = 4;

    /// <summary>
    /// With <see cref="SpeakersPerBatch"/> = n &gt; 0: how many of a batch's n identities are hard negatives rather than
    /// random draws — each joins a randomly drawn identity as one of its nearest identities of another speaker by the cosine
    /// of mean feature frames (the similarity of the no-learning baseline). In [0, n/2]. Default 0.
    /// </summary>
    public int HardNegativeIdentities { get; init; }

    /// <summary>Shortest random crop of a training utterance, in frames (24 ≈ 0.77 s at hop 512, 16 kHz). Default 24.</summary>
    public int MinCropFrames { get; init; } = 24;

    /// <summary>Longest random crop, in frames (48 ≈ 1.5 s); longer crops cost more sequential GRU steps. Default 48.</summary>
    public int MaxCropFrames { get; init; } = 48;

    /// <summary>The loss. Default binary cross-entropy on the learned scale·cos + offset.</summary>
    public SiameseLossKind Loss { get; init; } = SiameseLossKind.BinaryCrossEntropy;

    /// <summary>Margin of the contrastive loss, in cosine distance (1 − cos). Default 1.0 (different speakers pushed to cos ≤ 0).</summary>
    public double ContrastiveMargin { get; init; } = 1.0;

    /// <summary>
    /// Frequency-warp factors for speaker multiplication: each training utterance is warped along the frequency axis by
    /// one of these factors, and (speaker, factor) counts as its own identity — a vocal-tract-length change makes a new
    /// voice (the idea behind speed-perturbation augmentation in x-vector training). [1.0] disables it.
    /// </summary>
    public IReadOnlyList<double> WarpFactors { get; init; } = [1.0];

    /// <summary>
    /// Two-band frequency warps (<see cref="FrequencyWarp(int, double, double, int)"/>), each another identity per training
    /// speaker besides <see cref="WarpFactors"/>: (factor below <see cref="BandWarpKneeBin"/>, factor above). Opposite
    /// factors move the first formant and the higher ones apart, the way near voice variants of one synthesizer differ.
    /// Empty (default) adds none.
    /// </summary>
    public IReadOnlyList<BandWarp> BandWarps { get; init; } = [];

    /// <summary>The knee of <see cref="BandWarps"/>, in bins. Default 64 (1 kHz at n_fft 1024, 16 kHz: above most first formants).</summary>
    public int BandWarpKneeBin { get; init; } = 64;

    /// <summary>Frequency masks per training crop (SpecAugment); 0 (default) disables masking.</summary>
    public int FrequencyMasks { get; init; }

    /// <summary>Widest frequency mask, in bins (each mask's width is drawn from [0, this]). Default 40 (625 Hz at n_fft 1024).</summary>
    public int FrequencyMaskMaxBins { get; init; } = 40;

    /// <summary>
    /// Weight of an auxiliary identity loss added to the pair loss: an additive-margin softmax
    /// (<see cref="SiameseLoss.AdditiveMarginSoftmax"/>) of every utterance of a batch over all training identities
    /// (speaker × warp factor), through a head that is trained alongside and dropped after training
    /// (<see cref="SiameseSpeakerModel.IdentityCosine"/>). 0 (default) disables it; the pair loss always stays.
    /// </summary>
    public double IdentityLossWeight { get; init; }

    /// <summary>Cosine margin of the identity loss. Default 0.2 (the usual AM-softmax value for speaker embeddings).</summary>
    public double IdentityLossMargin { get; init; } = 0.2;

    /// <summary>Logit scale of the identity loss. Default 30.</summary>
    public double IdentityLossScale { get; init; } = 30;

    /// <summary>How epochs with equal validation EER are ranked. Default <see cref="SelectionTieBreak.ValidationLoss"/>.</summary>
    public SelectionTieBreak SelectionTieBreak { get; init; } = SelectionTieBreak.ValidationLoss;

    /// <summary>Seed of the validation trial list (kept fixed so epochs are compared on the same trials). Default 1.</summary>
    public int ValidationSeed { get; init; } = 1;

    /// <summary>The problem of <see cref="BandWarpKneeBin"/> for features of <paramref name="bins"/> bins, or null when it fits.</summary>
    internal string? BandWarpKneeProblem(int bins) =>
        BandWarps.Count > 0 && BandWarpKneeBin > bins - 1 ? $"BandWarpKneeBin must be below the {bins} feature bins, found {BandWarpKneeBin}." : null;

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PairsPerEpoch < 2) errors.Add($"PairsPerEpoch must be ≥ 2, found {PairsPerEpoch}.");
        if (PairsPerBatch < 2) errors.Add($"PairsPerBatch must be ≥ 2, found {PairsPerBatch}.");
        // Drawn-pair epochs are cut into whole batches of PairsPerBatch; group batches do not use it.
        if (SpeakersPerBatch == 0 && PairsPerBatch > PairsPerEpoch)
            errors.Add($"PairsPerBatch must be ≤ PairsPerEpoch = {PairsPerEpoch} when pairs are drawn (SpeakersPerBatch = 0), found {PairsPerBatch}: an epoch would make no batch.");
        if (SpeakersPerBatch < 0 || SpeakersPerBatch == 1) errors.Add($"SpeakersPerBatch must be 0 (drawn pairs) or ≥ 2, found {SpeakersPerBatch}.");
        if (HardNegativeIdentities < 0 || HardNegativeIdentities > SpeakersPerBatch / 2)
            errors.Add($"HardNegativeIdentities must be in [0, SpeakersPerBatch / 2 = {Math.Max(0, SpeakersPerBatch / 2)}], found {HardNegativeIdentities}.");
        if (UtterancesPerSpeaker < 2) errors.Add($"UtterancesPerSpeaker must be ≥ 2, found {UtterancesPerSpeaker}.");
        if (MinCropFrames < 1) errors.Add($"MinCropFrames must be ≥ 1, found {MinCropFrames}.");
        if (MaxCropFrames < MinCropFrames) errors.Add($"MaxCropFrames must be ≥ MinCropFrames = {MinCropFrames}, found {MaxCropFrames}.");
        if (!Enum.IsDefined(Loss)) errors.Add($"Loss must be a defined SiameseLossKind, found {(int)Loss}.");
        if (!(ContrastiveMargin > 0 && ContrastiveMargin <= 2)) errors.Add($"ContrastiveMargin must be in (0, 2], found {ContrastiveMargin}.");
        if (WarpFactors is null || WarpFactors.Count == 0) errors.Add("WarpFactors must hold at least one factor (use [1.0] for none).");
        else if (WarpFactors.Any(f => !(f >= 0.5 && f <= 2.0))) errors.Add($"WarpFactors must be in [0.5, 2.0], found [{string.Join(", ", WarpFactors)}].");
        if (BandWarps is null) errors.Add("BandWarps must not be null (use [] for none).");
        else if (BandWarps.Any(w => !(w.Low >= 0.5 && w.Low <= 2.0 && w.High >= 0.5 && w.High <= 2.0)))
            errors.Add($"BandWarps factors must be in [0.5, 2.0], found [{string.Join(", ", BandWarps)}].");
        if (BandWarpKneeBin < 1) errors.Add($"BandWarpKneeBin must be ≥ 1, found {BandWarpKneeBin}.");
        if (!Enum.IsDefined(SelectionTieBreak)) errors.Add($"SelectionTieBreak must be a defined SelectionTieBreak, found {(int)SelectionTieBreak}.");
        if (!(IdentityLossWeight >= 0) || double.IsInfinity(IdentityLossWeight)) errors.Add($"IdentityLossWeight must be a finite number ≥ 0, found {IdentityLossWeight}.");
        if (!(IdentityLossMargin >= 0 && IdentityLossMargin < 1)) errors.Add($"IdentityLossMargin must be in [0, 1), found {IdentityLossMargin}.");
        if (!(IdentityLossScale > 0) || double.IsInfinity(IdentityLossScale)) errors.Add($"IdentityLossScale must be a finite number > 0, found {IdentityLossScale}.");
        if (FrequencyMasks < 0) errors.Add($"FrequencyMasks must be ≥ 0, found {FrequencyMasks}.");
        if (FrequencyMaskMaxBins < 0) errors.Add($"FrequencyMaskMaxBins must be ≥ 0, found {FrequencyMaskMaxBins}.");
        return errors;
    }
}
