using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Encoders;

/// <summary>Pads variable-length feature sequences into encoder batches and embeds many utterances efficiently.</summary>
public static class EncoderBatching
{
    /// <summary>Stacks sequences into one zero-padded batch.</summary>
    /// <param name="sequences">Each of shape (frames_i, bins), frames_i ≥ 1, equal bins.</param>
    /// <returns>Features (count, max frames, bins) and int64 lengths (count).</returns>
    /// <exception cref="ArgumentException">No sequence, a null sequence, or a sequence that is not (frames ≥ 1, bins) (the
    /// message gives its index).</exception>
    public static (Tensor Features, Tensor Lengths) Pad(IReadOnlyList<Tensor> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("Expected at least one sequence to pad, found none.", nameof(sequences));
        var lengths = new long[sequences.Count];
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i] ?? throw new ArgumentNullException(nameof(sequences), $"Sequence {i} is null.");
            if (s.dim() != 2 || s.shape[0] < 1 || s.shape[1] != sequences[0].shape[1])
                throw new ArgumentException($"Sequence {i}: expected shape (frames ≥ 1, {sequences[0].shape[1]}), found ({string.Join(", ", s.shape)}).", nameof(sequences));
            lengths[i] = s.shape[0];
        }
        using var scope = NewDisposeScope();
        var padded = nn.utils.rnn.pad_sequence(sequences, batch_first: true);
        return (scope.MoveToOuter(padded), scope.MoveToOuter(tensor(lengths)));
    }

    /// <summary>
    /// Embeds every sequence, in batches of similar length (sorted, so little padding is computed), under
    /// <c>no_grad</c> on the calling thread. The encoder's train/eval mode is left as it is.
    /// </summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="sequences">Each of shape (frames_i, bins).</param>
    /// <param name="batchSize">Sequences per forward pass.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One unit-length embedding per sequence, in input order.</returns>
    /// <exception cref="ArgumentException">A null sequence (the message gives its index), a sequence
    /// <see cref="Pad"/> refuses, or a batch size below 1.</exception>
    public static float[][] EmbedAll(GruSpeakerEncoder encoder, IReadOnlyList<Tensor> sequences, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(sequences);
        if (batchSize < 1) throw new ArgumentException($"batchSize must be ≥ 1, found {batchSize}.", nameof(batchSize));
        // Before sorting by length, which reads every sequence's shape.
        for (int i = 0; i < sequences.Count; i++)
            if (sequences[i] is null) throw new ArgumentNullException(nameof(sequences), $"Sequence {i} is null.");
        var result = new float[sequences.Count][];
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].shape[0]).ToArray();
        using var noGrad = no_grad();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var idx = order.Skip(start).Take(batchSize).ToArray();
            var (x, lengths) = Pad(idx.Select(i => sequences[i]).ToArray());
            var e = encoder.forward(x, lengths).cpu();
            int size = (int)e.shape[1];
            var flat = e.data<float>().ToArray();
            for (int k = 0; k < idx.Length; k++) result[idx[k]] = flat.AsSpan(k * size, size).ToArray();
        }
        return result;
    }
}
