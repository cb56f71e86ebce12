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
/// <param name="Identities">Shape (utterances), int64: each utterance's training identity, speaker index × warp factors + warp index.</param>
public sealed record SpeakerTrainingBatch(Tensor Features, Tensor Lengths, Tensor SameSpeaker, Tensor PairMask, long Pairs, Tensor Identities);

/// <summary>
/// Siamese speaker training for <see cref="Trainer"/>: per epoch, balanced same/different pairs are drawn from the
/// training speakers; each batch embeds the utterances of <see cref="SpeakerTrainingOptions.PairsPerBatch"/> drawn pairs
/// (random crops) and scores every pair among them; validation reports the EER (<c>val_eer</c>) and minDCF
/// (<c>val_min_dcf</c>) on trials among held-out speakers, the balanced validation pair loss (<c>val_loss</c>) and
/// <c>val_selection</c> = EER with a tie-breaker (<see cref="SpeakerTrainingOptions.SelectionTieBreak"/>: the loss, or the
/// later epoch), which <see cref="SpeakerTraining"/> selects the best epoch by.
/// </summary>
public sealed class SpeakerTrainingProblem : ITrainingProblem<SpeakerTrainingBatch>, IDisposable
{
    private readonly SpeakerFeatureSet _train;
    private readonly SpeakerFeatureSet _validation;
    private readonly IReadOnlyList<Trial> _validationTrials;
    private readonly Dictionary<string, int> _validationIndex;
    // One warp per synthetic voice a training speaker is turned into (null: the recording as it is).
    private readonly FrequencyWarp?[] _warps;
    private readonly Scalar _margin;
    private readonly Scalar _identityWeight;
    private readonly Scalar _identityScale;
    private readonly Scalar _identityMargin;
    private readonly Dictionary<string, int> _speakerIndex;
    private readonly Tensor _frameMean;
    private int _epoch;

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
        if (train.Dataset.Speakers.Count < 2)
            throw new ArgumentException($"Training needs at least 2 speakers; the training feature set has {train.Dataset.Speakers.Count} ({train.Dataset.Utterances.Count} utterances).", nameof(train));
        // Every refusal comes before the native objects below are made: a constructor that throws cannot be disposed.
        int bins = train.Options.FeatureSize;
        if (options.BandWarpKneeProblem(bins) is { } kneeProblem)
            throw new ArgumentException(kneeProblem, nameof(options));
        _validationTrials = TrialList.Generate(validation.Dataset, options.ValidationSeed);
        _validationIndex = validation.Dataset.Utterances.Select((u, i) => (u.Key, i)).ToDictionary(t => t.Key, t => t.i, StringComparer.Ordinal);
        _train = train;
        _validation = validation;
        Options = options;
        _speakerIndex = train.Dataset.Speakers.Select((speaker, i) => (speaker, i)).ToDictionary(t => t.speaker, t => t.i, StringComparer.Ordinal);
        var (mean, scale) = train.Statistics();
        scale.Dispose();
        _frameMean = mean.DetachFromDisposeScope();
        _margin = options.ContrastiveMargin.ToScalar();
        _identityWeight = options.IdentityLossWeight.ToScalar();
        _identityScale = options.IdentityLossScale.ToScalar();
        _identityMargin = options.IdentityLossMargin.ToScalar();
        _warps = options.WarpFactors.Select(f => f == 1.0 ? null : new FrequencyWarp(bins, f))
            .Concat(options.BandWarps.Select(w => (FrequencyWarp?)new FrequencyWarp(bins, w.Low, w.High, options.BandWarpKneeBin)))
            .ToArray();
    }

    /// <summary>The settings.</summary>
    public SpeakerTrainingOptions Options { get; }

    /// <summary>
    /// Training identities (training speakers × warp factors): the number of classes the model's identity head needs when
    /// <see cref="SpeakerTrainingOptions.IdentityLossWeight"/> &gt; 0.
    /// </summary>
    public int IdentityCount => _speakerIndex.Count * _warps.Length;

    /// <summary>The validation trials (fixed for the whole training).</summary>
    public IReadOnlyList<Trial> ValidationTrials => _validationTrials;

    /// <inheritdoc />
    public IEnumerable<SpeakerTrainingBatch> TrainBatches(int epoch, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        _epoch = epoch;
        return Options.SpeakersPerBatch > 0 ? GroupBatches(rng) : PairBatches(rng);
    }

    private IEnumerable<SpeakerTrainingBatch> PairBatches(Random rng)
    {
        var pairs = PairSampler.Sample(_train.Dataset, Options.PairsPerEpoch, rng);
        var utterances = _train.Dataset.Utterances;
        int perBatch = Options.PairsPerBatch;
        for (int start = 0; start + perBatch <= pairs.Count; start += perBatch)
        {
            int n = 2 * perBatch;
            var sequences = new Tensor[n];
            var identity = new int[n];
            for (int k = 0; k < perBatch; k++)
            {
                var p = pairs[start + k];
                int warpFirst = rng.Next(_warps.Length);
                // A same-speaker pair keeps one warp (one voice); a different-speaker pair may draw another.
                int warpSecond = p.IsTarget ? warpFirst : rng.Next(_warps.Length);
                sequences[k] = Augment(_train.Features[p.First], warpFirst, rng);
                sequences[perBatch + k] = Augment(_train.Features[p.Second], warpSecond, rng);
                identity[k] = Identity(utterances[p.First].SpeakerId, warpFirst);
                identity[perBatch + k] = Identity(utterances[p.Second].SpeakerId, warpSecond);
            }
            yield return MakeBatch(sequences, identity);
        }
    }

    /// <summary>
    /// Batches of <see cref="SpeakerTrainingOptions.SpeakersPerBatch"/> identities (speaker, warp factor) drawn without
    /// replacement, each with <see cref="SpeakerTrainingOptions.UtterancesPerSpeaker"/> distinct utterances: every batch
    /// holds N·M(M − 1)/2 same-identity pairs and all the cross-identity ones, including the hardest negatives the data
    /// offers (one speaker at two warp factors). With <see cref="SpeakerTrainingOptions.HardNegativeIdentities"/> = h, only
    /// N − h identities are drawn at random; each of the other h joins one of them as a near neighbour of another speaker.
    /// </summary>
    private IEnumerable<SpeakerTrainingBatch> GroupBatches(Random rng)
    {
        int perGroup = Options.UtterancesPerSpeaker;
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var utterances = _train.Dataset.Utterances;
        for (int i = utterances.Count - 1; i >= 0; i--) first[utterances[i].SpeakerId] = i;
        foreach (var picked in DrawGroups(rng))
        {
            var sequences = new Tensor[picked.Length * perGroup];
            var identity = new int[picked.Length * perGroup];
            for (int g = 0; g < picked.Length; g++)
            {
                var (speaker, warp) = picked[g];
                var chosen = Enumerable.Range(0, _train.Dataset.UtterancesOf(speaker).Count).ToArray();
                rng.Shuffle(chosen);
                for (int m = 0; m < perGroup; m++)
                {
                    sequences[g * perGroup + m] = Augment(_train.Features[first[speaker] + chosen[m]], warp, rng);
                    identity[g * perGroup + m] = Identity(speaker, warp);
                }
            }
            yield return MakeBatch(sequences, identity);
        }
    }

    /// <summary>The identities (speaker, index of its voice transform) of each batch of an epoch in group mode.</summary>
    /// <exception cref="InvalidOperationException">Fewer identities with enough utterances than a batch needs.</exception>
    internal IEnumerable<(string Speaker, int Warp)[]> DrawGroups(Random rng)
    {
        int groups = Options.SpeakersPerBatch;
        int perGroup = Options.UtterancesPerSpeaker;
        var eligible = _train.Dataset.Speakers.Where(s => _train.Dataset.UtterancesOf(s).Count >= perGroup).ToArray();
        if (eligible.Length * _warps.Length < groups)
            throw new InvalidOperationException($"Expected at least {groups} (speaker, warp) identities with ≥ {perGroup} utterances for a batch, found {eligible.Length} speakers × {_warps.Length} warps.");
        var identities = eligible.SelectMany(s => Enumerable.Range(0, _warps.Length).Select(w => (Speaker: s, Warp: w))).ToArray();
        // As many utterances per epoch as the pair mode embeds (2 · PairsPerEpoch), so epochs cost the same.
        int batches = Math.Max(1, 2 * Options.PairsPerEpoch / (groups * perGroup));
        int hard = Options.HardNegativeIdentities;
        var neighbours = hard > 0 ? IdentityNeighbours(identities) : null;
        for (int b = 0; b < batches; b++)
        {
            var order = Enumerable.Range(0, identities.Length).ToArray();
            rng.Shuffle(order);
            var picked = new int[groups];
            var used = new HashSet<int>();
            for (int g = 0; g < groups - hard; g++)
            {
                picked[g] = order[g];
                used.Add(order[g]);
            }
            for (int g = groups - hard; g < groups; g++)
            {
                // One of the few nearest unused identities of another speaker than the seed's, so batches vary.
                int seed = picked[(g - (groups - hard)) % (groups - hard)];
                var candidates = neighbours![seed].Where(c => !used.Contains(c)).Take(NeighbourChoices).ToArray();
                int next = candidates.Length > 0 ? candidates[rng.Next(candidates.Length)] : order.First(c => !used.Contains(c));
                picked[g] = next;
                used.Add(next);
            }
            yield return picked.Select(i => identities[i]).ToArray();
        }
    }

    /// <summary>Hard negatives are drawn among this many nearest identities of the seed.</summary>
    private const int NeighbourChoices = 3;

    /// <summary>
    /// For each identity, the identities of other speakers ordered by decreasing cosine of their mean feature frames (the
    /// no-learning baseline's similarity, which predicts where an encoder confuses voices). Warping is linear, so an
    /// identity's mean is the warped mean of its speaker.
    /// </summary>
    private int[][] IdentityNeighbours((string Speaker, int Warp)[] identities)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var means = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var utterances = _train.Dataset.Utterances;
        foreach (var speaker in identities.Select(i => i.Speaker).Distinct())
        {
            var rows = Enumerable.Range(0, utterances.Count).Where(i => utterances[i].SpeakerId == speaker).Select(i => _train.Features[i].mean([0])).ToArray();
            means[speaker] = stack(rows).mean([0]);
        }
        var vectors = stack(identities.Select(i => _warps[i.Warp] is { } w ? w.Apply(means[i.Speaker]) : means[i.Speaker]).ToArray());
        vectors = nn.functional.normalize(vectors, p: 2, dim: 1);
        var cosine = vectors.matmul(vectors.T).data<float>().ToArray();
        int n = identities.Length;
        var result = new int[n][];
        for (int a = 0; a < n; a++)
            result[a] = Enumerable.Range(0, n).Where(b => identities[b].Speaker != identities[a].Speaker).OrderByDescending(b => cosine[a * n + b]).ToArray();
        return result;
    }

    private int Identity(string speaker, int warp) => _speakerIndex[speaker] * _warps.Length + warp;

    private static SpeakerTrainingBatch MakeBatch(Tensor[] sequences, int[] identity)
    {
        int n = sequences.Length;
        var same = new float[n * n];
        var mask = new float[n * n];
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
            {
                mask[a * n + b] = 1;
                if (identity[a] == identity[b]) same[a * n + b] = 1;
            }
        var (features, lengths) = EncoderBatching.Pad(sequences);
        return new SpeakerTrainingBatch(features, lengths, tensor(same).view(n, n), tensor(mask).view(n, n), (long)n * (n - 1) / 2,
            tensor(identity.Select(i => (long)i).ToArray()));
    }

    /// <inheritdoc />
    public Tensor Loss(nn.Module model, SpeakerTrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (model is not SiameseSpeakerModel siamese)
            throw new ArgumentException($"Expected a {nameof(SiameseSpeakerModel)}, found {model?.GetType().Name ?? "null"}.", nameof(model));
        var e = siamese.Encoder.forward(batch.Features, batch.Lengths);
        var cosine = e.matmul(e.T);   // (n, n): unit embeddings, so dot products are cosines
        var positive = batch.SameSpeaker.mul(batch.PairMask);
        var negative = batch.PairMask.add(positive, Scalars.MinusOne);   // mask · (1 − same)
        Tensor perPair = Options.Loss == SiameseLossKind.BinaryCrossEntropy
            ? nn.functional.binary_cross_entropy_with_logits(siamese.Logits(cosine), batch.SameSpeaker, reduction: nn.Reduction.None)
            : SiameseLoss.ContrastiveTerms(cosine, batch.SameSpeaker, _margin);
        // Balanced: same-speaker and different-speaker pairs weigh ½ each, whatever their counts in the batch.
        var positiveMean = perPair.mul(positive).sum().div(positive.sum().clamp_min(Scalars.One));
        var negativeMean = perPair.mul(negative).sum().div(negative.sum().clamp_min(Scalars.One));
        var pairLoss = positiveMean.add(negativeMean, Scalars.One).mul(Scalars.Half);
        if (Options.IdentityLossWeight == 0) return pairLoss;
        if (siamese.Identities != IdentityCount)
            throw new ArgumentException($"IdentityLossWeight > 0 needs a {nameof(SiameseSpeakerModel)} with {IdentityCount} identities (speakers × warps), found {siamese.Identities}.", nameof(model));
        var identityLoss = SiameseLoss.AdditiveMarginSoftmax(siamese.IdentityCosine(e), batch.Identities, _identityScale, _identityMargin);
        return pairLoss.add(identityLoss, _identityWeight);
    }

    /// <inheritdoc />
    public long CountSamples(SpeakerTrainingBatch batch) => batch?.Pairs ?? 0;

    /// <inheritdoc />
    /// <remarks><c>val_loss</c> and <c>val_selection</c> come with a <see cref="SiameseSpeakerModel"/> only (they need its learned scale and offset).</remarks>
    public IReadOnlyCollection<string> MetricNames { get; } = ["val_eer", "val_min_dcf", "val_threshold_eer", "val_loss", "val_selection"];

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
        var (targets, nonTargets) = ScoreValidationTrials(embeddings);
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
            // Targets come first in perPair, then non-targets.
            double loss = 0.5 * perPair.narrow(0, 0, targets.Length).mean().item<float>() + 0.5 * perPair.narrow(0, targets.Length, nonTargets.Length).mean().item<float>();
            metrics["val_loss"] = loss;
            // Model selection: the EER, ties broken by the loss or by recency. Scaled to stay below half the EER step of one
            // target trial (the recency term for up to 10,000 epochs), a tie-breaker never outweighs a real EER difference.
            double step = 0.5 / targets.Length;
            metrics["val_selection"] = eer.Eer + (Options.SelectionTieBreak == SelectionTieBreak.LatestEpoch
                ? step * (1 - Math.Min(_epoch, 10_000) / 10_000.0)
                : step * Math.Min(loss, 1.0));
        }
        return metrics;
    }

    /// <summary>
    /// Cosine scores of <see cref="ValidationTrials"/> from one embedding per validation utterance, in the order of the
    /// validation set's utterances.
    /// </summary>
    internal (double[] Targets, double[] NonTargets) ScoreValidationTrials(float[][] embeddings)
    {
        var targets = new List<double>();
        var nonTargets = new List<double>();
        foreach (var t in _validationTrials)
        {
            double s = SpeakerEmbeddings.Cosine(embeddings[_validationIndex[t.First.Key]], embeddings[_validationIndex[t.Second.Key]]);
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
        var voiced = _warps[warp] is { } w ? w.Apply(cropped) : cropped;
        return Options.FrequencyMasks == 0 ? voiced : MaskFrequencies(voiced, rng);
    }

    /// <summary>
    /// SpecAugment-style frequency masking (Park et al. 2019): <see cref="SpeakerTrainingOptions.FrequencyMasks"/> bands of
    /// random width in [0, <see cref="SpeakerTrainingOptions.FrequencyMaskMaxBins"/>] are set to the training mean, which
    /// the encoder's input normalization maps to 0, so that no single band can carry an identity.
    /// </summary>
    /// <param name="features">Shape (frames, bins).</param>
    /// <param name="rng">Draws the bands.</param>
    /// <returns>Same shape.</returns>
    internal Tensor MaskFrequencies(Tensor features, Random rng)
    {
        int bins = (int)features.shape[^1];
        var keep = new float[bins];
        Array.Fill(keep, 1f);
        for (int m = 0; m < Options.FrequencyMasks; m++)
        {
            int width = rng.Next(0, Math.Min(Options.FrequencyMaskMaxBins, bins) + 1);
            int start = rng.Next(0, bins - width + 1);
            Array.Fill(keep, 0f, start, width);
        }
        using var scope = NewDisposeScope();
        var kept = tensor(keep);
        var masked = tensor(keep.Select(k => 1 - k).ToArray());
        return scope.MoveToOuter(features.mul(kept).add(_frameMean.mul(masked), Scalars.One));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var w in _warps) w?.Dispose();
        _margin.Dispose();
        _identityWeight.Dispose();
        _identityScale.Dispose();
        _identityMargin.Dispose();
        _frameMean.Dispose();
    }
}
