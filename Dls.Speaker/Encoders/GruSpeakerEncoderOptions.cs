namespace Dls.Speaker.Encoders;

/// <summary>Hyper-parameters of <see cref="GruSpeakerEncoder"/> (saved next to the weights so a loader can rebuild it).</summary>
public sealed record GruSpeakerEncoderOptions
{
    /// <summary>Feature bins per frame: 513 for STFT magnitudes with n_fft 1024 (the assignment), or the mel count.</summary>
    public int InputSize { get; init; } = 513;

    /// <summary>GRU hidden units per direction (256 in the assignment, so the pooled state has 512 values).</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>Embedding dimension after the fully connected layer (256 in the assignment).</summary>
    public int EmbeddingSize { get; init; } = 256;

    /// <summary>
    /// 0 for the plain encoder; r &gt; 0 puts a bias-free r-dimensional projection (<c>proj</c>) in front of the GRU, which
    /// is what a rank-r factorization of the GRU input weights of both directions amounts to (compression).
    /// </summary>
    public int InputProjectionRank { get; init; }

    /// <summary>
    /// 0 for a dense output layer; r &gt; 0 makes <c>fc</c> a rank-r factorization (two linear maps 2·HiddenSize → r → EmbeddingSize).
    /// </summary>
    public int OutputRank { get; init; }

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (InputSize < 1) errors.Add($"InputSize must be ≥ 1, found {InputSize}.");
        if (HiddenSize < 1) errors.Add($"HiddenSize must be ≥ 1, found {HiddenSize}.");
        if (EmbeddingSize < 1) errors.Add($"EmbeddingSize must be ≥ 1, found {EmbeddingSize}.");
        if (InputProjectionRank < 0 || InputProjectionRank > InputSize)
            errors.Add($"InputProjectionRank must be in [0, InputSize = {InputSize}], found {InputProjectionRank}.");
        if (OutputRank < 0 || OutputRank > Math.Min(2 * HiddenSize, EmbeddingSize))
            errors.Add($"OutputRank must be in [0, min(2·HiddenSize, EmbeddingSize) = {Math.Min(2 * HiddenSize, EmbeddingSize)}], found {OutputRank}.");
        return errors;
    }
}
