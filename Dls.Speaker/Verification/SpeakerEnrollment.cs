namespace Dls.Speaker.Verification;

/// <summary>An enrolled speaker: the renormalized mean embedding of their enrollment utterances.</summary>
public sealed class SpeakerEnrollment
{
    private readonly float[] _embedding;

    /// <summary>Creates an enrollment from already-enrolled embedding values (copied).</summary>
    /// <param name="embedding">A unit-length embedding (e.g. from <see cref="SpeakerEmbeddings.Enroll"/>).</param>
    /// <param name="utteranceCount">How many utterances it was made from (≥ 1).</param>
    /// <exception cref="ArgumentException">An empty or all-zero embedding, a non-finite value (NaN/∞) or a count below 1.</exception>
    public SpeakerEnrollment(ReadOnlySpan<float> embedding, int utteranceCount)
    {
        if (embedding.IsEmpty) throw new ArgumentException("Expected a non-empty enrollment embedding, found none.", nameof(embedding));
        // A NaN would make every later cosine NaN, which no threshold accepts: a silent "different speaker".
        bool allZero = true;
        for (int i = 0; i < embedding.Length; i++)
        {
            if (!float.IsFinite(embedding[i]))
                throw new ArgumentException($"Expected finite enrollment values, found {embedding[i]} at index {i} of {embedding.Length}.", nameof(embedding));
            allZero &= embedding[i] == 0;
        }
        // No cosine is defined against a zero vector: every later Verify would fail, so fail here, where the cause is.
        if (allZero)
            throw new ArgumentException($"Expected a unit-length enrollment embedding, found {embedding.Length} zeros.", nameof(embedding));
        if (utteranceCount < 1) throw new ArgumentException($"Expected at least 1 enrollment utterance, found {utteranceCount}.", nameof(utteranceCount));
        _embedding = embedding.ToArray();
        UtteranceCount = utteranceCount;
    }

    /// <summary>The enrolled embedding (unit length).</summary>
    public ReadOnlySpan<float> Embedding => _embedding;

    /// <summary>Number of utterances averaged.</summary>
    public int UtteranceCount { get; }

    /// <summary>Enrolls from per-utterance embeddings (mean, renormalized).</summary>
    /// <exception cref="ArgumentException">No embeddings, or inconsistent ones (see <see cref="SpeakerEmbeddings.Enroll"/>).</exception>
    public static SpeakerEnrollment FromEmbeddings(IReadOnlyCollection<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return new SpeakerEnrollment(SpeakerEmbeddings.Enroll(embeddings), embeddings.Count);
    }
}
