namespace Dls.Speaker.Data;

/// <summary>A training pair for Siamese learning: two utterance indices into a dataset and their label.</summary>
/// <param name="First">Index into <see cref="SpeakerDataset.Utterances"/>.</param>
/// <param name="Second">Index into <see cref="SpeakerDataset.Utterances"/>.</param>
/// <param name="IsTarget"><see langword="true"/> when both come from the same speaker.</param>
public readonly record struct VerificationPair(int First, int Second, bool IsTarget);

/// <summary>Draws balanced same/different-speaker pairs, reproducibly from a seed.</summary>
public static class PairSampler
{
    /// <summary>
    /// Draws <paramref name="count"/> pairs, half same-speaker (a speaker with ≥ 2 utterances uniformly, then two distinct
    /// utterances of it) and half different-speaker (two distinct speakers uniformly, one utterance of each), shuffled.
    /// An odd count gets the extra pair as a same-speaker pair.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two speakers, no speaker with two utterances, or count &lt; 1.</exception>
    public static IReadOnlyList<VerificationPair> Sample(SpeakerDataset dataset, int count, Random rng)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(rng);
        if (count < 1) throw new ArgumentException($"Pair count must be at least 1, found {count}.", nameof(count));
        if (dataset.Speakers.Count < 2)
            throw new ArgumentException($"Pairs need at least 2 speakers; the dataset has {dataset.Speakers.Count}.", nameof(dataset));
        var start = new Dictionary<string, int>(StringComparer.Ordinal);
        var utts = dataset.Utterances;
        for (int i = utts.Count - 1; i >= 0; i--) start[utts[i].SpeakerId] = i;
        var speakers = dataset.Speakers;
        var multi = speakers.Where(s => dataset.UtterancesOf(s).Count >= 2).ToArray();
        if (multi.Length == 0)
            throw new ArgumentException("Same-speaker pairs need a speaker with at least 2 utterances; every speaker has one.", nameof(dataset));

        var pairs = new VerificationPair[count];
        int same = count - count / 2;
        for (int k = 0; k < count; k++)
        {
            if (k < same)
            {
                var s = multi[rng.Next(multi.Length)];
                int n = dataset.UtterancesOf(s).Count;
                int a = rng.Next(n), b = rng.Next(n - 1);
                if (b >= a) b++;
                pairs[k] = new VerificationPair(start[s] + a, start[s] + b, true);
            }
            else
            {
                int sa = rng.Next(speakers.Count), sb = rng.Next(speakers.Count - 1);
                if (sb >= sa) sb++;
                var a = speakers[sa];
                var b = speakers[sb];
                pairs[k] = new VerificationPair(start[a] + rng.Next(dataset.UtterancesOf(a).Count), start[b] + rng.Next(dataset.UtterancesOf(b).Count), false);
            }
        }
        rng.Shuffle(pairs);
        return pairs;
    }
}
