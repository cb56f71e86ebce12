namespace Dls.Speaker.Verification;

/// <summary>Enrollment and scoring maths on plain embedding vectors.</summary>
public static class SpeakerEmbeddings
{
    /// <summary>
    /// Enrolls a speaker: the mean of the (unit) embeddings of their utterances, renormalized to unit length — the
    /// centroid direction used by GE2E/Resemblyzer-style verification.
    /// </summary>
    /// <exception cref="ArgumentException">No embedding, embeddings of different lengths, a non-finite value, or
    /// embeddings whose mean is the zero vector.</exception>
    public static float[] Enroll(IEnumerable<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        double[]? sum = null;
        int count = 0;
        foreach (var e in embeddings)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(embeddings));
            sum ??= new double[e.Length];
            if (e.Length != sum.Length || e.Length == 0)
                throw new ArgumentException($"Expected enrollment embeddings of length {sum.Length}, found one of length {e.Length} (index {count}).", nameof(embeddings));
            for (int i = 0; i < e.Length; i++)
            {
                if (!float.IsFinite(e[i])) throw new ArgumentException($"Enrollment embedding {count} has a non-finite value at {i}.", nameof(embeddings));
                sum[i] += e[i];
            }
            count++;
        }
        if (sum is null) throw new ArgumentException("Enrollment needs at least one utterance; found none.", nameof(embeddings));
        double norm = Math.Sqrt(sum.Sum(v => v * v));
        if (norm < 1e-12) throw new ArgumentException($"The {count} enrollment embeddings cancel out (mean is the zero vector); cannot enroll.", nameof(embeddings));
        return sum.Select(v => (float)(v / norm)).ToArray();
    }

    /// <summary>
    /// Centers an embedding: subtracts <paramref name="mean"/> (the mean embedding of a set of training speakers) and
    /// renormalizes to unit length. Cosines of centered embeddings no longer share the component common to all voices, the
    /// mean subtraction that precedes length normalization in i-vector/x-vector scoring (Garcia-Romero and Espy-Wilson 2011).
    /// </summary>
    /// <exception cref="ArgumentException">Different or zero lengths, or an embedding equal to the mean.</exception>
    public static float[] Center(ReadOnlySpan<float> embedding, IReadOnlyList<float> mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        if (embedding.Length != mean.Count || embedding.Length == 0)
            throw new ArgumentException($"Expected an embedding and a mean of equal non-zero length, found lengths {embedding.Length} and {mean.Count}.");
        var centered = new double[embedding.Length];
        double norm = 0;
        for (int i = 0; i < centered.Length; i++)
        {
            centered[i] = embedding[i] - (double)mean[i];
            norm += centered[i] * centered[i];
        }
        norm = Math.Sqrt(norm);
        if (!(norm >= 1e-12)) throw new ArgumentException($"The embedding equals the mean (distance {norm}); it has no direction once centered.", nameof(embedding));
        return centered.Select(v => (float)(v / norm)).ToArray();
    }

    /// <summary>The element-wise mean of embeddings of equal length (not renormalized: the centre of the cloud).</summary>
    /// <exception cref="ArgumentException">No embedding, different lengths, or a non-finite value.</exception>
    public static float[] Mean(IReadOnlyList<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count == 0) throw new ArgumentException("Expected at least one embedding, found none.", nameof(embeddings));
        var sum = new double[embeddings[0].Length];
        for (int k = 0; k < embeddings.Count; k++)
        {
            var e = embeddings[k];
            if (e.Length != sum.Length) throw new ArgumentException($"Expected embeddings of length {sum.Length}, found one of length {e.Length} (index {k}).", nameof(embeddings));
            for (int i = 0; i < e.Length; i++)
            {
                if (!float.IsFinite(e[i])) throw new ArgumentException($"Embedding {k} has a non-finite value at {i}.", nameof(embeddings));
                sum[i] += e[i];
            }
        }
        return sum.Select(v => (float)(v / embeddings.Count)).ToArray();
    }

    /// <summary>Cosine similarity of two vectors of equal length, in [−1, 1].</summary>
    /// <exception cref="ArgumentException">Different or zero lengths, or a zero vector.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length || a.Length == 0)
            throw new ArgumentException($"Expected two non-empty vectors of equal length, found lengths {a.Length} and {b.Length}.");
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        if (na == 0 || nb == 0) throw new ArgumentException("Cosine similarity is undefined for a zero vector.");
        return Math.Clamp(dot / Math.Sqrt(na * nb), -1.0, 1.0);
    }

    /// <summary>Scores a test embedding against an enrolled one and decides against <paramref name="threshold"/>.</summary>
    public static VerificationResult Verify(ReadOnlySpan<float> enrolled, ReadOnlySpan<float> utterance, double threshold)
    {
        if (double.IsNaN(threshold)) throw new ArgumentException("Threshold is NaN.", nameof(threshold));
        double score = Cosine(enrolled, utterance);
        return new VerificationResult(score, threshold, score >= threshold);
    }
}
