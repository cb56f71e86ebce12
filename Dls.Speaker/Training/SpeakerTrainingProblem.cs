using Dls.Models.Training;
using Dls.Speaker.Data;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Metrics;
using Dls.Speaker.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>One Siamese training batch: the embedded utterances and which pairs of them share an identity.</summary>
/// <param name="Features">Shape (utterances, frames, bins), zero-padded.</param>
/// <param name="Lengths">Shape (utterances), int64.</param>
/// <param name="SameSpeaker">Shape (utterances, utterances), 1 where row and column share an identity (upper triangle used).</param>
/// <param name="PairMask">Shape (utterances, utterances), 1 on the strict upper triangle (each unordered pair once).</param>
/// <param name="Pairs">Number of scored pairs, n(n − 1)/2.</param>
public sealed record SpeakerTrainingBatch(Tensor Features, Tensor Lengths, Tensor SameSpeaker, Tensor PairMask, long Pairs);

/// <summary>
/// Siamese speaker training for <see cref="Trainer"/>: per epoch, balanced same/different pairs are drawn from the
/// training speakers; each batch embeds the utterances of <see cref="SpeakerTrainingOptions.PairsPerBatch"/> drawn pairs
/// (random crops) and scores every pair among them; validation reports the EER (<c>val_eer</c>) and minDCF
/// (<c>val_min_dcf</c>) on trials among held-out speakers, the balanced validation pair loss (<c>val_loss</c>) and
/// <c>val_selection</c> = EER with the loss as tie-breaker (what <see cref="SpeakerTraining"/> selects the best epoch by).
/// </summary>
public sealed class SpeakerTrainingProblem : ITrainingProblem<SpeakerTrainingBatch>, IDisposable
{
    private readonly SpeakerFeatureSet _train;
    private readonly SpeakerFeatureSet _validation;
    private readonly IReadOnlyList<Trial> _validationTrials;
    private readonly Dictionary<string, int> _validationIndex;
    private readonly FrequencyWarp[] _warps;

    /// <summary>Creates the problem.</summary>
    /// <param name="train">Features of the training speakers.</param>
    /// <param name="validation">Features of the validation speakers (disjoint from training for an honest EER).</param>
    /// <param name="options">Pair drawing and loss settings.</param>
    /// <exception cref="ArgumentException">Invalid options, or feature sets too small for pairs/trials.</exception>
    public SpeakerTrainingProblem(SpeakerFeatureSet train, SpeakerFeatureSet validation, SpeakerTrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        options ??= new SpeakerTrainingOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid SpeakerTrainingOptions: " + string.Join(" ", errors), nameof(options));
        _train = train;
        _validation = validation;
        Options = options;
        _validationTrials = TrialList.Generate(validation.Dataset, options.ValidationSeed);
        _validationIndex = validation.Dataset.Utterances.Select((u, i) => (u.Key, i)).ToDictionary(t => t.Key, t => t.i, StringComparer.Ordinal);
        int bins = train.Options.FeatureSize;
        _warps = options.WarpFactors.Select(f => new FrequencyWarp(bins, f)).ToArray();
    }

    /// <summary>The settings.</summary>
    public SpeakerTrainingOptions Options { get; }

    /// <summary>The validation trials (fixed for the whole training).</summary>
    public IReadOnlyList<Trial> ValidationTrials => _validationTrials;

    /// <inheritdoc />
    public IEnumerable<SpeakerTrainingBatch> TrainBatches(int epoch, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var pairs = PairSampler.Sample(_train.Dataset, Options.PairsPerEpoch, rng);
        var utterances = _train.Dataset.Utterances;
        int perBatch = Options.PairsPerBatch;
        for (int start = 0; start + perBatch <= pairs.Count; start += perBatch)
        {
            int n = 2 * perBatch;
            var sequences = new Tensor[n];
            var identity = new string[n];
            for (int k = 0; k < perBatch; k++)
            {
                var p = pairs[start + k];
                int warpFirst = rng.Next(_warps.Length);
                // A same-speaker pair keeps one warp (one voice); a different-speaker pair may draw another.
                int warpSecond = p.IsTarget ? warpFirst : rng.Next(_warps.Length);
                sequences[k] = Augment(_train.Features[p.First], warpFirst, rng);
                sequences[perBatch + k] = Augment(_train.Features[p.Second], warpSecond, rng);
                identity[k] = utterances[p.First].SpeakerId + "@" + warpFirst;
                identity[perBatch + k] = utterances[p.Second].SpeakerId + "@" + warpSecond;
            }
            var same = new float[n * n];
            var mask = new float[n * n];
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++)
                {
                    mask[a * n + b] = 1;
                    if (identity[a] == identity[b]) same[a * n + b] = 1;
                }
            var (features, lengths) = EncoderBatching.Pad(sequences);
            yield return new SpeakerTrainingBatch(features, lengths, tensor(same).view(n, n), tensor(mask).view(n, n), (long)n * (n - 1) / 2);
        }
    }

    /// <inheritdoc />
    public Tensor Loss(nn.Module model, SpeakerTrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (model is not SiameseSpeakerModel siamese)
            throw new ArgumentException($"Expected a {nameof(SiameseSpeakerModel)}, found {model?.GetType().Name ?? "null"}.", nameof(model));
        var e = siamese.Encoder.forward(batch.Features, batch.Lengths);
        var cosine = e.matmul(e.T);   // (n, n): unit embeddings, so dot products are cosines
        var positive = batch.SameSpeaker * batch.PairMask;
        var negative = (1 - batch.SameSpeaker) * batch.PairMask;
        Tensor perPair = Options.Loss == SiameseLossKind.BinaryCrossEntropy
            ? nn.functional.binary_cross_entropy_with_logits(siamese.Logits(cosine), batch.SameSpeaker, reduction: nn.Reduction.None)
            : ContrastiveTerms(cosine, batch.SameSpeaker, Options.ContrastiveMargin);
        // Balanced: same-speaker and different-speaker pairs weigh ½ each, whatever their counts in the batch.
        return 0.5 * (perPair * positive).sum() / positive.sum().clamp_min(1) + 0.5 * (perPair * negative).sum() / negative.sum().clamp_min(1);
    }

    /// <inheritdoc />
    public long CountSamples(SpeakerTrainingBatch batch) => batch?.Pairs ?? 0;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Validate(nn.Module model, CancellationToken cancellationToken)
    {
        var encoder = model switch
        {
            SiameseSpeakerModel s => s.Encoder,
            GruSpeakerEncoder g => g,
            _ => throw new ArgumentException($"Expected a {nameof(SiameseSpeakerModel)} or {nameof(GruSpeakerEncoder)}, found {model?.GetType().Name ?? "null"}.", nameof(model)),
        };
        var embeddings = EncoderBatching.EmbedAll(encoder, _validation.Features, cancellationToken: cancellationToken);
        var (targets, nonTargets) = ScoreTrials(_validationTrials, _validationIndex, embeddings);
        var eer = VerificationMetrics.EqualErrorRate(targets, nonTargets);
        var dcf = VerificationMetrics.MinDcf(targets, nonTargets);
        var metrics = new Dictionary<string, double>
        {
            ["val_eer"] = eer.Eer,
            ["val_min_dcf"] = dcf.MinDcf,
            ["val_threshold_eer"] = eer.Threshold,
        };
        if (model is SiameseSpeakerModel siamese)
        {
            // The balanced pair loss of the validation trials with the learned scale and offset: continuous where the EER
            // of a few easy validation speakers saturates at 0.
            using var scope = NewDisposeScope();
            var cos = tensor(targets.Concat(nonTargets).Select(v => (float)v).ToArray());
            var labels = tensor(targets.Select(_ => 1f).Concat(nonTargets.Select(_ => 0f)).ToArray());
            var perPair = nn.functional.binary_cross_entropy_with_logits(siamese.Logits(cos), labels, reduction: nn.Reduction.None);
            double loss = 0.5 * (perPair * labels).sum().item<float>() / targets.Length + 0.5 * (perPair * (1 - labels)).sum().item<float>() / nonTargets.Length;
            metrics["val_loss"] = loss;
            // Model selection: the EER, ties broken by the loss. Scaled to stay below half the EER step of one target
            // trial, the loss term never outweighs a real EER difference.
            metrics["val_selection"] = eer.Eer + Math.Min(loss, 1.0) * 0.5 / targets.Length;
        }
        return metrics;
    }

    /// <summary>Cosine scores of trials whose utterances are looked up by key in <paramref name="embeddings"/>.</summary>
    internal static (double[] Targets, double[] NonTargets) ScoreTrials(IReadOnlyList<Trial> trials, IReadOnlyDictionary<string, int> index, float[][] embeddings)
    {
        var targets = new List<double>();
        var nonTargets = new List<double>();
        foreach (var t in trials)
        {
            double s = SpeakerEmbeddings.Cosine(embeddings[index[t.First.Key]], embeddings[index[t.Second.Key]]);
            (t.IsTarget ? targets : nonTargets).Add(s);
        }
        return (targets.ToArray(), nonTargets.ToArray());
    }

    private Tensor Augment(Tensor features, int warp, Random rng)
    {
        long frames = features.shape[0];
        var cropped = features;
        if (frames > Options.MinCropFrames)
        {
            int length = rng.Next(Options.MinCropFrames, (int)Math.Min(frames, Options.MaxCropFrames) + 1);
            int offset = rng.Next(0, (int)frames - length + 1);
            cropped = features[offset..(offset + length)];
        }
        return Options.WarpFactors[warp] == 1.0 ? cropped : _warps[warp].Apply(cropped);
    }

    private static Tensor ContrastiveTerms(Tensor cosine, Tensor same, double margin)
    {
        var distance = 1 - cosine;
        return same * distance.pow(2) + (1 - same) * (margin - distance).clamp_min(0).pow(2);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var w in _warps) w.Dispose();
    }
}
