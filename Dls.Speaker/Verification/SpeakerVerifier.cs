namespace Dls.Speaker.Verification;

/// <summary>The <see cref="ISpeakerVerifier"/> over a <see cref="SpeakerEmbedder"/> and a threshold.</summary>
public sealed class SpeakerVerifier : ISpeakerVerifier, IDisposable
{
    private readonly SpeakerEmbedder _embedder;

    /// <summary>Creates a verifier; it takes ownership of <paramref name="embedder"/>.</summary>
    /// <param name="embedder">The embedder.</param>
    /// <param name="threshold">Cosine threshold; null uses the model's calibrated one.</param>
    /// <exception cref="ArgumentException">A threshold, or with none the model's, outside [−1, 1].</exception>
    public SpeakerVerifier(SpeakerEmbedder embedder, double? threshold = null)
    {
        _embedder = embedder ?? throw new ArgumentNullException(nameof(embedder));
        Threshold = threshold ?? embedder.Model.Threshold;
        if (!(Threshold >= -1 && Threshold <= 1))
            throw threshold is null
                ? new ArgumentException($"The model's threshold must be in [−1, 1] (pass a threshold to override it), found {Threshold}.", nameof(embedder))
                : new ArgumentException($"Threshold must be in [−1, 1], found {Threshold}.", nameof(threshold));
    }

    /// <summary>Loads a verifier from a model file, or the shipped default model when <paramref name="modelPath"/> is null.</summary>
    /// <exception cref="FileNotFoundException">The model file or its sidecar is missing.</exception>
    /// <exception cref="InvalidDataException">The model file is malformed, e.g. its stored threshold is outside [−1, 1] (see <see cref="SpeakerModelFile.Load"/>).</exception>
    /// <exception cref="ArgumentException">A <paramref name="threshold"/> outside [−1, 1], or invalid <paramref name="options"/>.</exception>
    public static SpeakerVerifier Load(string? modelPath = null, double? threshold = null, SpeakerEmbedderOptions? options = null)
    {
        var model = modelPath is null ? DefaultSpeakerModel.Load() : SpeakerModelFile.Load(modelPath);
        SpeakerEmbedder? embedder = null;
        try
        {
            embedder = new SpeakerEmbedder(model, options);
            return new SpeakerVerifier(embedder, threshold);
        }
        catch
        {
            // The embedder (once made) owns the encoder and its feature extractor; before that only the encoder exists.
            if (embedder is not null) embedder.Dispose();
            else model.Encoder.Dispose();
            throw;
        }
    }

    /// <summary>The embedder (and through it the model).</summary>
    public SpeakerEmbedder Embedder => _embedder;

    /// <inheritdoc />
    public int SampleRate => _embedder.SampleRate;

    /// <inheritdoc />
    public double Threshold { get; }

    /// <inheritdoc />
    public float[] Embed(ReadOnlySpan<float> samples, int sampleRate) => _embedder.Embed(samples, sampleRate);

    /// <inheritdoc />
    public float[] EmbedFile(string path) => _embedder.EmbedFile(path);

    /// <inheritdoc />
    public SpeakerEnrollment Enroll(IEnumerable<float[]> utterances, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        var list = utterances.ToArray();
        if (list.Length == 0) throw new ArgumentException("Enrollment needs at least one utterance; found none.", nameof(utterances));
        return SpeakerEnrollment.FromEmbeddings(_embedder.EmbedMany(list, sampleRate));
    }

    /// <inheritdoc />
    public SpeakerEnrollment EnrollFiles(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var list = paths.ToArray();
        if (list.Length == 0) throw new ArgumentException("Enrollment needs at least one file; found none.", nameof(paths));
        return SpeakerEnrollment.FromEmbeddings(list.Select(_embedder.EmbedFile).ToArray());
    }

    /// <inheritdoc />
    public VerificationResult Verify(SpeakerEnrollment enrolled, ReadOnlySpan<float> samples, int sampleRate)
    {
        CheckEnrollment(enrolled);
        return SpeakerEmbeddings.Verify(enrolled.Embedding, _embedder.Embed(samples, sampleRate), Threshold);
    }

    /// <inheritdoc />
    public VerificationResult VerifyFile(SpeakerEnrollment enrolled, string path)
    {
        CheckEnrollment(enrolled);
        return SpeakerEmbeddings.Verify(enrolled.Embedding, _embedder.EmbedFile(path), Threshold);
    }

    /// <summary>Checked before embedding, so an enrollment made with another model fails fast and says so.</summary>
    private void CheckEnrollment(SpeakerEnrollment enrolled)
    {
        ArgumentNullException.ThrowIfNull(enrolled);
        if (enrolled.Embedding.Length != _embedder.EmbeddingSize)
            throw new ArgumentException($"The enrollment has {enrolled.Embedding.Length} values, this model embeds {_embedder.EmbeddingSize}; enroll the speaker with the same model.", nameof(enrolled));
    }

    /// <inheritdoc />
    public void Dispose() => _embedder.Dispose();
}
