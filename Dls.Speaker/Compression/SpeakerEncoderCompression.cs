using Dls.Compression.Counting;
using Dls.Compression.LowRank;
using Dls.Speaker.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Compression;

/// <summary>Size of a speaker encoder: parameters and multiply-accumulates per input frame.</summary>
/// <param name="Parameters">Trainable parameters (the input statistics are not counted).</param>
/// <param name="MacsPerFrame">MACs per frame: input projection + both GRU directions; the FC runs once per utterance and is excluded.</param>
/// <param name="MacsPerUtterance">MACs of the FC layer, spent once per utterance.</param>
public readonly record struct EncoderSize(long Parameters, long MacsPerFrame, long MacsPerUtterance);

/// <summary>
/// Low-rank compression of a <see cref="GruSpeakerEncoder"/> through Dls.Compression: the FC layer by
/// <see cref="ModelCompressor"/> (truncated SVD into a <see cref="LowRankLinear"/>), and the GRU input weights of both
/// directions jointly: W_ih (2·3·hidden × input) ≈ U·V becomes a bias-free projection V (rank × input) in front of a GRU
/// whose input weights are U — exactly the same function at full rank.
/// </summary>
public static class SpeakerEncoderCompression
{
    /// <summary>Builds a compressed copy of <paramref name="encoder"/> (the original is left untouched).</summary>
    /// <param name="encoder">A dense encoder (no input projection yet).</param>
    /// <param name="inputRank">Rank of the GRU input weights; 0 keeps them dense.</param>
    /// <param name="outputRank">Rank of the FC layer; 0 keeps it dense.</param>
    /// <returns>The new encoder (eval mode), owned by the caller.</returns>
    /// <exception cref="ArgumentException">Ranks out of range, or an encoder that is already compressed.</exception>
    public static GruSpeakerEncoder Compress(GruSpeakerEncoder encoder, int inputRank, int outputRank)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var o = encoder.Options;
        if (o.InputProjectionRank != 0 || o.OutputRank != 0)
            throw new ArgumentException($"Expected a dense encoder, found InputProjectionRank {o.InputProjectionRank}, OutputRank {o.OutputRank}.", nameof(encoder));
        int maxInput = Math.Min(o.InputSize, 6 * o.HiddenSize);
        if (inputRank < 0 || inputRank > maxInput) throw new ArgumentException($"inputRank must be in [0, {maxInput}], found {inputRank}.", nameof(inputRank));
        int maxOutput = Math.Min(2 * o.HiddenSize, o.EmbeddingSize);
        if (outputRank < 0 || outputRank > maxOutput) throw new ArgumentException($"outputRank must be in [0, {maxOutput}], found {outputRank}.", nameof(outputRank));

        // Modules are built outside any dispose scope: their parameters must outlive this method.
        var compressed = new GruSpeakerEncoder(o with { InputProjectionRank = inputRank });
        try
        {
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var source = encoder.state_dict();
                var target = compressed.state_dict();
                foreach (var (key, value) in source)
                {
                    if (inputRank > 0 && key is "gru.weight_ih_l0" or "gru.weight_ih_l0_reverse") continue;
                    target[key].copy_(value);
                }
                if (inputRank > 0)
                {
                    // Both directions share one projection: factor the stacked (6·hidden × input) matrix.
                    var stacked = cat([source["gru.weight_ih_l0"], source["gru.weight_ih_l0_reverse"]], 0);
                    using var svd = WeightSvd.Of(stacked);
                    var (u, v) = svd.Factors(inputRank);
                    long rows = source["gru.weight_ih_l0"].shape[0];
                    target["proj.weight"].copy_(v);
                    target["gru.weight_ih_l0"].copy_(u[..(int)rows]);
                    target["gru.weight_ih_l0_reverse"].copy_(u[(int)rows..]);
                }
            }
            if (outputRank > 0)
                ModelCompressor.Compress(compressed, CompressionPolicy.FixedRank(outputRank) with { Include = ["fc"], ForceFactorization = true });
        }
        catch
        {
            compressed.Dispose();
            throw;
        }
        compressed.eval();
        return compressed;
    }

    /// <summary>Counts parameters and MACs of an encoder (through <see cref="ModelCounter"/>).</summary>
    public static EncoderSize Measure(GruSpeakerEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        long parameters = ModelCounter.CountParameters(encoder).Trainable;
        long perFrame = 0, perUtterance = 0;
        foreach (var (name, module) in encoder.named_modules())
        {
            if (ModelCounter.LayerMacsPerPosition(module) is not { } macs) continue;
            if (name == "fc") perUtterance += macs; else if (!name.StartsWith("fc.", StringComparison.Ordinal)) perFrame += macs;
        }
        return new EncoderSize(parameters, perFrame, perUtterance);
    }
}
