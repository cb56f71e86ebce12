using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>The training objective of a mask network.</summary>
public enum DenoisingLoss
{
    /// <summary>Mean squared error between masked noisy magnitude and clean magnitude (the assignment's loss).</summary>
    Magnitude,

    /// <summary>Negative SNR (dB) of the waveform rebuilt through the differentiable ISTFT with the noisy phase,
    /// averaged over the batch: the evaluation metric itself.</summary>
    WaveformSnr,

    /// <summary>Negative scale-invariant SDR (dB; Le Roux et al. 2019, as <c>SignalMetrics.SiSdrDb</c> defines it) of the
    /// waveform rebuilt through the differentiable ISTFT with the noisy phase, averaged over the batch. It ignores the
    /// estimate's overall gain, so it rewards the shape of the waveform rather than its level.</summary>
    WaveformSiSdr,
}

/// <summary>Settings of <see cref="DenoisingTrainingProblem"/>.</summary>
public sealed record DenoisingTrainingOptions
{
    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch { get; init; } = 50;

    /// <summary>Longest excerpt per example in samples (≥ 1024); longer examples are cropped at random.</summary>
    public int MaxSegmentSamples { get; init; } = 32000;

    /// <summary>The objective.</summary>
    public DenoisingLoss Loss { get; init; } = DenoisingLoss.Magnitude;

    /// <summary>Share of each batch taken from the fixed pairs (the rest is mixed on the fly), in [0, 1].</summary>
    public double FixedPairShare { get; init; } = 0.5;

    /// <summary>Throws when a value is out of range, naming every bad field.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (BatchSize <= 0)
        {
            errors.Add($"BatchSize must be > 0 (found {BatchSize})");
        }

        if (BatchesPerEpoch <= 0)
        {
            errors.Add($"BatchesPerEpoch must be > 0 (found {BatchesPerEpoch})");
        }

        if (MaxSegmentSamples < DenoisingStft.FftLength)
        {
            errors.Add($"MaxSegmentSamples must be ≥ {DenoisingStft.FftLength} (found {MaxSegmentSamples})");
        }

        if (FixedPairShare is < 0 or > 1 || double.IsNaN(FixedPairShare))
        {
            errors.Add($"FixedPairShare must be in [0, 1] (found {FixedPairShare})");
        }

        // Loss picks the objective with if/else, where anything but Magnitude and WaveformSiSdr means WaveformSnr, so an
        // undefined value would silently mean WaveformSnr.
        if (!Enum.IsDefined(Loss))
        {
            string[] names = Enum.GetNames<DenoisingLoss>();
            errors.Add($"Loss must be {string.Join(", ", names[..^1])} or {names[^1]} (found {(int)Loss})");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {nameof(DenoisingTrainingOptions)}: {string.Join("; ", errors)}.");
        }
    }
}

/// <summary>One training batch: equal-length excerpts (plain arrays; tensors are made inside the loss's scope).</summary>
/// <param name="Noisy">Mixtures: at least one, each of the same length (more than <see cref="DenoisingStft.HopLength"/> samples).</param>
/// <param name="Clean">Clean references: one per mixture, as long as the mixtures.</param>
public sealed record DenoisingBatch(float[][] Noisy, float[][] Clean);

/// <summary>
/// Trains a mask network (<see cref="IMaskNetwork"/>) on fixed pairs and/or pairs mixed on the fly, and validates by
/// the mean SNR improvement on held-out pairs (whole-file processing, as the denoiser does).
/// </summary>
public sealed class DenoisingTrainingProblem : ITrainingProblem<DenoisingBatch>
{
    /// <summary>The validation metric maximised when keeping the best model.</summary>
    public const string SnrImprovementMetric = "snr_improvement_db";

    private readonly IReadOnlyList<DenoisingExample> _fixed;
    private readonly OnTheFlyMixer? _mixer;
    private readonly IReadOnlyList<DenoisingExample> _validation;
    private readonly DenoisingTrainingOptions _options;

    /// <summary>Creates the problem.</summary>
    /// <param name="fixedPairs">Pairs used as they are (may be empty when <paramref name="mixer"/> is given); none null,
    /// each non-empty with a clean signal as long as its mixture and finite samples.</param>
    /// <param name="mixer">Makes pairs on the fly (may be <c>null</c> when there are fixed pairs).</param>
    /// <param name="validation">Held-out pairs (at least one), checked like <paramref name="fixedPairs"/> and with an
    /// audible (not all-zero) clean signal, since their SNR is the validation metric.</param>
    /// <param name="options">Settings (defaults when <c>null</c>).</param>
    /// <exception cref="ArgumentException">
    /// The options are invalid, there are neither fixed pairs nor a mixer, there is no validation pair, or a pair is
    /// unusable (the message names the list, the pair's index and name, and the lengths or the sample found).
    /// </exception>
    public DenoisingTrainingProblem(
        IReadOnlyList<DenoisingExample> fixedPairs,
        OnTheFlyMixer? mixer,
        IReadOnlyList<DenoisingExample> validation,
        DenoisingTrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fixedPairs);
        ArgumentNullException.ThrowIfNull(validation);
        _options = options ?? new DenoisingTrainingOptions();
        _options.Validate();
        if (fixedPairs.Count == 0 && mixer is null)
        {
            throw new ArgumentException("Expected fixed pairs, a mixer, or both; found neither.", nameof(fixedPairs));
        }

        if (validation.Count == 0)
        {
            throw new ArgumentException("Expected at least one validation pair; found 0.", nameof(validation));
        }

        // Checked once here, so that a bad pair is named now rather than failing mid-training (a short clean signal in
        // a batch copy, or a validation pair blamed on the network after a whole epoch).
        CheckPairs(fixedPairs, "Fixed", requireAudibleClean: false, nameof(fixedPairs));
        CheckPairs(validation, "Validation", requireAudibleClean: true, nameof(validation));
        _fixed = fixedPairs;
        _mixer = mixer;
        _validation = validation;
    }

    /// <summary>The settings.</summary>
    public DenoisingTrainingOptions Options => _options;

    /// <inheritdoc />
    public IEnumerable<DenoisingBatch> TrainBatches(int epoch, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        for (int b = 0; b < _options.BatchesPerEpoch; b++)
        {
            yield return MakeBatch(rng);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The batch is empty, ragged, or its clean rows do not match its noisy rows (named).</exception>
    public long CountSamples(DenoisingBatch batch)
    {
        CheckBatch(batch);
        return batch.Noisy.Length;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">
    /// The model is not a mask network, or the batch is empty, ragged, has rows of at most
    /// <see cref="DenoisingStft.HopLength"/> samples, or clean rows that do not match its noisy rows (named).
    /// </exception>
    /// <exception cref="InvalidOperationException">The network returned a mask of another shape than its input's, or not in float32.</exception>
    public Tensor Loss(nn.Module model, DenoisingBatch batch)
    {
        IMaskNetwork network = AsMaskNetwork(model);
        CheckBatch(batch);
        using var scope = NewDisposeScope();
        int count = batch.Noisy.Length, length = batch.Noisy[0].Length;
        Tensor noisy = tensor(batch.Noisy.SelectMany(x => x).ToArray(), [count, length]);
        Tensor clean = tensor(batch.Clean.SelectMany(x => x).ToArray(), [count, length]);
        Tensor spec = DenoisingStft.Forward(noisy);
        Tensor magnitude = spec.abs();
        Tensor mask = MaskingStream.CheckMask(network, network.forward(magnitude), magnitude.shape[0], magnitude.shape[1], "forward");
        Tensor loss;
        if (_options.Loss == DenoisingLoss.Magnitude)
        {
            Tensor cleanMagnitude = DenoisingStft.Forward(clean).abs();
            loss = nn.functional.mse_loss(mask * magnitude, cleanMagnitude);
        }
        else
        {
            Tensor estimate = DenoisingStft.Inverse(spec * mask, length);
            loss = (_options.Loss == DenoisingLoss.WaveformSiSdr ? SiSdrDb(clean, estimate) : SnrDb(clean, estimate)).mean().neg();
        }

        return scope.MoveToOuter(loss);
    }

    /// <summary>SNR = 10·log10(Σs² / Σ(s − ŝ)²) of each row of (batch, samples) tensors; 1e-8 keeps silent excerpts finite.</summary>
    internal static Tensor SnrDb(Tensor clean, Tensor estimate)
    {
        Tensor signal = clean.square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
        Tensor error = clean.sub(estimate).square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
        return signal.div(error).log10().mul(Scalars.Ten);
    }

    /// <summary>
    /// SI-SDR of each row of (batch, samples) tensors: with α = ⟨ŝ, s⟩ / ‖s‖², 10·log10(‖α s‖² / ‖ŝ − α s‖²), no mean
    /// removal (as <c>SignalMetrics.SiSdrDb</c>). 1e-8 in each energy keeps silent excerpts finite (a silent reference
    /// gives α = 0 and a finite value instead of 0/0). It also means that an estimate whose energy falls towards 1e-8 (a
    /// nearly silent output) scores towards 0 dB instead of its true SI-SDR: where that is negative, shrinking the
    /// output would look like progress. Speech excerpts of a training batch have energies many orders of magnitude
    /// above 1e-8, so this does not arise there; the SNR loss has no such region (a silent estimate is its true 0 dB).
    /// </summary>
    internal static Tensor SiSdrDb(Tensor clean, Tensor estimate)
    {
        Tensor alpha = estimate.mul(clean).sum(1, keepdim: true).div(clean.square().sum(1, keepdim: true).add(Scalars.LossEpsilon, Scalars.One));
        Tensor target = clean.mul(alpha);
        Tensor targetEnergy = target.square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
        Tensor distortion = estimate.sub(target).square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
        return targetEnergy.div(distortion).log10().mul(Scalars.Ten);
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> MetricNames { get; } = [SnrImprovementMetric, "output_snr_db", "si_sdr_improvement_db"];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Validate(nn.Module model, CancellationToken ct)
    {
        IMaskNetwork network = AsMaskNetwork(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            DenoisingReport report = DenoisingEvaluation.Evaluate(_validation, x => MaskInference.DenoiseWhole(network, x), includeOracles: false, ct);
            return new Dictionary<string, double>
            {
                [SnrImprovementMetric] = report.SnrImprovementDb,
                ["output_snr_db"] = report.OutputSnrDb,
                ["si_sdr_improvement_db"] = report.SiSdrImprovementDb,
            };
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private DenoisingBatch MakeBatch(Random rng)
    {
        var examples = new DenoisingExample[_options.BatchSize];
        for (int i = 0; i < examples.Length; i++)
        {
            bool useFixed = _mixer is null || (_fixed.Count > 0 && rng.NextDouble() < _options.FixedPairShare);
            examples[i] = useFixed ? _fixed[rng.Next(_fixed.Count)] : _mixer!.Mix(rng, _options.MaxSegmentSamples);
        }

        // One length per batch: the shortest example, capped; longer ones give a random excerpt.
        int length = Math.Min(_options.MaxSegmentSamples, examples.Min(e => e.Noisy.Length));
        length = Math.Max(length, DenoisingStft.FftLength);
        var noisy = new float[examples.Length][];
        var clean = new float[examples.Length][];
        for (int i = 0; i < examples.Length; i++)
        {
            DenoisingExample e = examples[i];
            noisy[i] = new float[length];
            clean[i] = new float[length];
            int n = Math.Min(length, e.Noisy.Length);
            int start = rng.Next(e.Noisy.Length - n + 1);
            Array.Copy(e.Noisy, start, noisy[i], 0, n);
            Array.Copy(e.Clean, start, clean[i], 0, n);
        }

        return new DenoisingBatch(noisy, clean);
    }

    private static void CheckPairs(IReadOnlyList<DenoisingExample> pairs, string list, bool requireAudibleClean, string paramName)
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            DenoisingExample? pair = pairs[i];
            if (pair is null)
            {
                throw new ArgumentException($"{list} pair {i} is null; expected an example.", paramName);
            }

            if (DenoisingExample.Defect(pair, requireAudibleClean) is { } defect)
            {
                throw new ArgumentException($"{list} pair {i} ('{pair.Name}') {defect}.", paramName);
            }
        }
    }

    /// <summary>
    /// Throws unless the batch is a non-empty rectangle of noisy rows with as many clean rows of the same length: what
    /// the (count, length) tensors of <see cref="Loss"/> need. Looks only at the row arrays, never at the samples.
    /// </summary>
    private static void CheckBatch(DenoisingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Noisy is null || batch.Clean is null)
        {
            throw new ArgumentException($"Expected a batch with noisy and clean rows; {(batch.Noisy is null ? "Noisy" : "Clean")} is null.", nameof(batch));
        }

        if (batch.Noisy.Length == 0)
        {
            throw new ArgumentException("Expected a batch of at least one example; found 0.", nameof(batch));
        }

        if (batch.Clean.Length != batch.Noisy.Length)
        {
            throw new ArgumentException($"Expected one clean row per noisy row; found {batch.Clean.Length} clean row(s) for {batch.Noisy.Length} noisy.", nameof(batch));
        }

        int length = batch.Noisy[0]?.Length ?? -1;
        for (int i = 0; i < batch.Noisy.Length; i++)
        {
            foreach ((string part, float[]? row) in new[] { ("Noisy", batch.Noisy[i]), ("Clean", batch.Clean[i]) })
            {
                if (row is null)
                {
                    throw new ArgumentException($"Expected equal-length rows; {part} row {i} is null.", nameof(batch));
                }

                if (row.Length != length)
                {
                    throw new ArgumentException($"Expected equal-length rows; {part} row {i} has {row.Length} samples, Noisy row 0 has {length}.", nameof(batch));
                }
            }
        }

        // The STFT's reflect padding needs more than half a window (batches from TrainBatches are ≥ 1024 samples).
        if (length <= DenoisingStft.HopLength)
        {
            throw new ArgumentException($"Expected rows of more than {DenoisingStft.HopLength} samples; found {length}.", nameof(batch));
        }
    }

    private static IMaskNetwork AsMaskNetwork(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model as IMaskNetwork ?? throw new ArgumentException(
            $"Expected a mask network ({nameof(FcMaskNetwork)}, {nameof(GruMaskNetwork)}); found {model.GetType().Name}.", nameof(model));
    }
}

/// <summary>Whole-signal inference through the tensor STFT (the reference the chunked engine is checked against).</summary>
internal static class MaskInference
{
    public static float[] DenoiseWhole(IMaskNetwork network, float[] noisy)
    {
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        float[] input = noisy.Length > DenoisingStft.HopLength ? noisy : [.. noisy, .. new float[DenoisingStft.HopLength + 1 - noisy.Length]];
        Tensor spec = DenoisingStft.Forward(tensor(input).unsqueeze(0));
        Tensor mask = network.forward(spec.abs());
        float[] output = DenoisingStft.Inverse(spec * mask, input.Length).squeeze(0).data<float>().ToArray();
        return output.Length == noisy.Length ? output : output[..noisy.Length];
    }
}
