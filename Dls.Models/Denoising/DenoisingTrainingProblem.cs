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

        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {nameof(DenoisingTrainingOptions)}: {string.Join("; ", errors)}.");
        }
    }
}

/// <summary>One training batch: equal-length excerpts (plain arrays; tensors are made inside the loss's scope).</summary>
/// <param name="Noisy">Mixtures, each of the same length.</param>
/// <param name="Clean">Clean references.</param>
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
    /// <param name="fixedPairs">Pairs used as they are (may be empty when <paramref name="mixer"/> is given).</param>
    /// <param name="mixer">Makes pairs on the fly (may be <c>null</c> when there are fixed pairs).</param>
    /// <param name="validation">Held-out pairs (at least one).</param>
    /// <param name="options">Settings (defaults when <c>null</c>).</param>
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
    public long CountSamples(DenoisingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Noisy.Length;
    }

    /// <inheritdoc />
    public Tensor Loss(nn.Module model, DenoisingBatch batch)
    {
        IMaskNetwork network = AsMaskNetwork(model);
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        int count = batch.Noisy.Length, length = batch.Noisy[0].Length;
        Tensor noisy = tensor(batch.Noisy.SelectMany(x => x).ToArray(), [count, length]);
        Tensor clean = tensor(batch.Clean.SelectMany(x => x).ToArray(), [count, length]);
        Tensor spec = DenoisingStft.Forward(noisy);
        Tensor magnitude = spec.abs();
        Tensor mask = network.forward(magnitude);
        Tensor loss;
        if (_options.Loss == DenoisingLoss.Magnitude)
        {
            Tensor cleanMagnitude = DenoisingStft.Forward(clean).abs();
            loss = nn.functional.mse_loss(mask * magnitude, cleanMagnitude);
        }
        else
        {
            Tensor estimate = DenoisingStft.Inverse(spec * mask, length);
            // SNR = 10·log10(Σs² / Σ(s − ŝ)²); 1e-8 keeps silent excerpts finite.
            Tensor signal = clean.square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
            Tensor error = clean.sub(estimate).square().sum(1).add(Scalars.LossEpsilon, Scalars.One);
            loss = signal.div(error).log10().mul(Scalars.Ten).mean().neg();
        }

        return scope.MoveToOuter(loss);
    }

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
