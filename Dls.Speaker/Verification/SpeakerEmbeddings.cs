using Dls.Audio;

namespace Dls.Speaker.Verification;

/// <summary>Enrollment and scoring maths on plain embedding vectors.</summary>
public static class SpeakerEmbeddings
{
    /// <summary>
    /// Enrolls a speaker: the mean of the (unit) embeddings of their utterances, renormalized to unit length — the
    /// centroid direction used by GE2E/Resemblyzer-style verification.
    /// </summary>
    /// <exception cref="ArgumentException">No embedding, a null or empty embedding, embeddings of different lengths, a
    /// non-finite value, or embeddings whose mean is the zero vector (the message gives the embedding's index).</exception>
    public static float[] Enroll(IEnumerable<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        double[]? sum = null;
        int count = 0;
        foreach (var e in embeddings)
        {
            if (e is null) throw new ArgumentNullException(nameof(embeddings), $"Enrollment embedding {count} is null.");
            if (e.Length == 0) throw new ArgumentException($"Enrollment embedding {count} is empty; expected an embedding with at least one value.", nameof(embeddings));
            sum ??= new double[e.Length];
            if (e.Length != sum.Length)
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
    /// <exception cref="ArgumentException">Different or zero lengths, a non-finite value in either (the message gives its
    /// index), or an embedding equal to the mean.</exception>
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
        // Differences of finite floats are finite in double, so a non-finite norm means a NaN or ∞ in one of the inputs;
        // only then are they scanned, to name it (a NaN norm would otherwise read as "equals the mean").
        if (!double.IsFinite(norm))
        {
            ThrowIfNonFinite(embedding, "embedding", nameof(embedding));
            for (int i = 0; i < mean.Count; i++)
                if (!float.IsFinite(mean[i])) throw new ArgumentException($"Expected finite values; the mean has {mean[i]} at index {i}.", nameof(mean));
        }
        norm = Math.Sqrt(norm);
        if (!(norm >= 1e-12)) throw new ArgumentException($"The embedding equals the mean (distance {norm}); it has no direction once centered.", nameof(embedding));
        return centered.Select(v => (float)(v / norm)).ToArray();
    }

    /// <summary>The element-wise mean of embeddings of equal length (not renormalized: the centre of the cloud).</summary>
    /// <exception cref="ArgumentException">No embedding, a null embedding, different lengths, or a non-finite value (the
    /// message gives the embedding's index).</exception>
    public static float[] Mean(IReadOnlyList<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count == 0) throw new ArgumentException("Expected at least one embedding, found none.", nameof(embeddings));
        double[]? sum = null;
        for (int k = 0; k < embeddings.Count; k++)
        {
            var e = embeddings[k] ?? throw new ArgumentNullException(nameof(embeddings), $"Embedding {k} is null.");
            sum ??= new double[e.Length];
            if (e.Length != sum.Length) throw new ArgumentException($"Expected embeddings of length {sum.Length}, found one of length {e.Length} (index {k}).", nameof(embeddings));
            for (int i = 0; i < e.Length; i++)
            {
                if (!float.IsFinite(e[i])) throw new ArgumentException($"Embedding {k} has a non-finite value at {i}.", nameof(embeddings));
                sum[i] += e[i];
            }
        }
        return sum!.Select(v => (float)(v / embeddings.Count)).ToArray();
    }

    /// <summary>Cosine similarity of two vectors of equal length, in [−1, 1].</summary>
    /// <exception cref="ArgumentException">Different or zero lengths, a non-finite value (the message gives its index), or
    /// a zero vector.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Cosine(a, b, nameof(a), nameof(b));

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string nameA, string nameB)
    {
        if (a.Length != b.Length || a.Length == 0)
            throw new ArgumentException($"Expected two non-empty vectors of equal length, found lengths {a.Length} and {b.Length}.", a.Length == 0 ? nameA : nameB);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        // A float squared is finite in double, so the sums of squares are finite unless a value is NaN or ∞; the scan
        // that names it runs only then, which keeps the scoring loop free of per-element checks. (Math.Clamp would pass a
        // NaN cosine through, and a NaN score is rejected by every threshold without a word.)
        if (!double.IsFinite(na)) ThrowIfNonFinite(a, $"vector '{nameA}'", nameA);
        if (!double.IsFinite(nb)) ThrowIfNonFinite(b, $"vector '{nameB}'", nameB);
        if (na == 0 || nb == 0) throw new ArgumentException($"Cosine similarity is undefined for a zero vector; vector '{(na == 0 ? nameA : nameB)}' is all zeros.", na == 0 ? nameA : nameB);
        return Math.Clamp(dot / Math.Sqrt(na * nb), -1.0, 1.0);
    }

    /// <summary>Scores a test embedding against an enrolled one and decides against <paramref name="threshold"/>.</summary>
    /// <exception cref="ArgumentException">A NaN threshold, or embeddings <see cref="Cosine(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// refuses.</exception>
    public static VerificationResult Verify(ReadOnlySpan<float> enrolled, ReadOnlySpan<float> utterance, double threshold)
    {
        if (double.IsNaN(threshold)) throw new ArgumentException("Threshold is NaN.", nameof(threshold));
        double score = Cosine(enrolled, utterance, nameof(enrolled), nameof(utterance));
        return new VerificationResult(score, threshold, score >= threshold);
    }

    private static void ThrowIfNonFinite(ReadOnlySpan<float> values, string what, string paramName)
    {
        int i = SampleChecks.IndexOfNonFinite(values);
        if (i >= 0) throw new ArgumentException($"Expected finite values; the {what} has {values[i]} at index {i}.", paramName);
    }
}
