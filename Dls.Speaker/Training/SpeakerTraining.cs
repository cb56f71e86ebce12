using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Training;
using Dls.Speaker.Data;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Metrics;
using Dls.Speaker.Verification;
using Microsoft.Extensions.Logging;

namespace Dls.Speaker.Training;

/// <summary>Everything a speaker-encoder training run needs besides the data.</summary>
public sealed record SpeakerTrainingRequest
{
    /// <summary>Feature settings (their FeatureSize becomes the encoder's InputSize).</summary>
    public SpeakerFeatureOptions Features { get; init; } = new();

    /// <summary>Encoder shape; InputSize is taken from <see cref="Features"/>.</summary>
    public GruSpeakerEncoderOptions Encoder { get; init; } = new();

    /// <summary>Pair drawing, crops, loss.</summary>
    public SpeakerTrainingOptions Training { get; init; } = new();

    /// <summary>
    /// Optimizer, schedule, epochs, seed. <see cref="TrainerOptions.MonitorMetric"/> is forced to <c>val_selection</c> (the
    /// validation EER, ties broken by the validation pair loss; lower is better) and <see cref="TrainerOptions.CheckpointPath"/> to a file in <see cref="WorkDirectory"/>.
    /// </summary>
    public TrainerOptions Trainer { get; init; } = new() { Epochs = 12, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, MinLearningRate = 1e-4, GradientClipNorm = 5.0 };

    /// <summary>Fraction of the training speakers held out for validation (model selection and threshold). Default 0.2.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// Whether the trained model centers its embeddings (<see cref="SpeakerModel.EmbeddingMean"/>): the mean embedding of
    /// the training speakers' utterances is stored with the model, and the threshold is calibrated on centered validation
    /// cosines. Default false.
    /// </summary>
    public bool CenterEmbeddings { get; init; }

    /// <summary>Where the best-epoch checkpoint is kept during training; null uses a fresh temporary folder.</summary>
    public string? WorkDirectory { get; init; }
}

/// <summary>The outcome of <see cref="SpeakerTraining.Train"/>.</summary>
/// <param name="Model">
/// The encoder of the best epoch (or the weight average, with <see cref="TrainerOptions.AverageFromEpoch"/>) with its
/// features and the validation EER threshold.
/// </param>
/// <param name="Result">The trainer's per-epoch history.</param>
/// <param name="TrainSpeakers">Speakers trained on.</param>
/// <param name="ValidationSpeakers">Speakers held out for validation.</param>
public sealed record SpeakerTrainingResult(SpeakerModel Model, TrainingResult Result, IReadOnlyList<string> TrainSpeakers, IReadOnlyList<string> ValidationSpeakers)
{
    /// <summary>The validation EER and threshold of centered embeddings (<see cref="SpeakerTrainingRequest.CenterEmbeddings"/>), or null.</summary>
    public EerResult? CenteredValidation { get; init; }
}

/// <summary>Trains a <see cref="GruSpeakerEncoder"/> as a Siamese network on a speaker dataset.</summary>
public static class SpeakerTraining
{
    /// <summary>
    /// Holds out a seeded fraction of the speakers for validation, computes features, sets the encoder's input
    /// normalization from the training frames, trains a <see cref="SiameseSpeakerModel"/> with <see cref="Trainer"/>
    /// (best epoch by validation EER), restores the best weights — or keeps the weight average when
    /// <see cref="TrainerOptions.AverageFromEpoch"/> is set — and calibrates the threshold at their validation EER.
    /// </summary>
    /// <param name="dataset">Training speakers only (test speakers must not be here).</param>
    /// <param name="request">Settings.</param>
    /// <param name="logger">Receives per-epoch summaries; may be null.</param>
    /// <param name="progress">Trainer progress; may be null.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">Too few speakers to hold out ≥ 2 for validation and keep ≥ 2, or invalid settings
    /// (every problem listed, checked before any audio is read).</exception>
    public static SpeakerTrainingResult Train(SpeakerDataset dataset, SpeakerTrainingRequest request, ILogger? logger = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(request);
        ValidateRequest(request);
        SpeakerArchitectures.Register();
        var (trainSpeakers, validationSpeakers) = SplitSpeakers(dataset, request);

        using var extractor = new SpeakerFeatureExtractor(request.Features);
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(trainSpeakers), extractor, cancellationToken: cancellationToken);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(validationSpeakers), extractor, cancellationToken: cancellationToken);
        using var problem = new SpeakerTrainingProblem(train, validation, request.Training);

        TorchSharp.torch.manual_seed(request.Trainer.Seed);
        var encoder = new GruSpeakerEncoder(request.Encoder with { InputSize = request.Features.FeatureSize });
        using var siamese = new SiameseSpeakerModel(encoder, request.Training.IdentityLossWeight > 0 ? problem.IdentityCount : 0);

        // Created right before the try whose finally removes it, so that no failure above leaves it behind.
        string work = request.WorkDirectory ?? Directory.CreateTempSubdirectory("dls-speaker-train-").FullName;
        Directory.CreateDirectory(work);
        string checkpoint = Path.Combine(work, "siamese-best.ckpt");
        var trainerOptions = request.Trainer with { MonitorMetric = "val_selection", HigherIsBetter = false, CheckpointPath = checkpoint };
        try
        {
            var (mean, scale) = train.Statistics();
            using (mean)
            using (scale)
                encoder.SetInputNormalization(mean, scale);

            var result = new Trainer(trainerOptions, logger).Fit(siamese, problem, progress, cancellationToken);
            double threshold;
            if (result.Averaged is { } averaged)
            {
                // Fit left the averaged weights in the model: they are the result, whichever epoch validated best.
                threshold = averaged.Metrics["val_threshold_eer"];
                logger?.LogInformation("Keeping the weight average of epochs {First}-{Last}: val_eer {Eer:P2}, threshold {Threshold:F4} (best single epoch {Epoch}).",
                    averaged.FirstEpoch, averaged.LastEpoch, averaged.Metrics["val_eer"], threshold, result.BestEpoch);
            }
            else
            {
                Checkpoint.LoadInto(siamese, checkpoint);
                var best = result.History.First(h => h.Epoch == result.BestEpoch);
                threshold = best.Metrics["val_threshold_eer"];
                logger?.LogInformation("Best epoch {Epoch}: val_eer {Eer:P2}, threshold {Threshold:F4}.", result.BestEpoch, best.Metrics["val_eer"], threshold);
            }
            siamese.eval();
            float[]? embeddingMean = null;
            EerResult? centered = null;
            if (request.CenterEmbeddings)
            {
                (embeddingMean, centered) = CenterOn(encoder, train, validation, problem, cancellationToken);
                threshold = centered.Value.Threshold;
                logger?.LogInformation("Centered embeddings (mean of {Count} training utterances): val_eer {Eer:P2}, threshold {Threshold:F4}.",
                    train.Features.Count, centered.Value.Eer, threshold);
            }
            // The encoder outlives the Siamese wrapper: detach it so disposing the wrapper leaves it intact.
            var kept = new GruSpeakerEncoder(encoder.Options);
            kept.load_state_dict(encoder.state_dict());
            kept.eval();
            return new SpeakerTrainingResult(new SpeakerModel(kept, request.Features, threshold, null) { EmbeddingMean = embeddingMean }, result, trainSpeakers, validationSpeakers)
            {
                CenteredValidation = centered,
            };
        }
        finally
        {
            if (request.WorkDirectory is null) TryDeleteFolder(work);
        }
    }

    /// <summary>
    /// Every settings problem the later stages (extractor, problem, encoder, trainer) would report, listed at once before
    /// the features of the whole dataset are computed.
    /// </summary>
    private static string? ValidationFractionProblem(SpeakerTrainingRequest request) =>
        request.ValidationFraction > 0 && request.ValidationFraction < 1 ? null : $"ValidationFraction must be in (0, 1), found {request.ValidationFraction}.";

    private static void ValidateRequest(SpeakerTrainingRequest request)
    {
        var errors = new List<string>();
        int bins = request.Features.FeatureSize;
        errors.AddRange(request.Features.Validate().Select(e => "Features." + e));
        errors.AddRange((request.Encoder with { InputSize = bins }).Validate().Select(e => "Encoder." + e));
        errors.AddRange(request.Training.Validate().Select(e => "Training." + e));
        if (request.Training.BandWarps is not null && request.Training.BandWarpKneeProblem(bins) is { } kneeProblem)
            errors.Add("Training." + kneeProblem);
        errors.AddRange((request.Trainer with { MonitorMetric = "val_selection", HigherIsBetter = false }).Validate().Select(e => "Trainer." + e));
        if (ValidationFractionProblem(request) is { } fractionProblem) errors.Add(fractionProblem);
        if (errors.Count > 0) throw new ArgumentException("Invalid SpeakerTrainingRequest: " + string.Join(" ", errors), nameof(request));
    }

    /// <summary>
    /// The mean embedding of the training utterances (whole, unwarped) and the validation EER of embeddings centered on it.
    /// </summary>
    private static (float[] Mean, EerResult Validation) CenterOn(GruSpeakerEncoder encoder, SpeakerFeatureSet train, SpeakerFeatureSet validation,
        SpeakerTrainingProblem problem, CancellationToken cancellationToken)
    {
        var mean = SpeakerEmbeddings.Mean(EncoderBatching.EmbedAll(encoder, train.Features, cancellationToken: cancellationToken));
        var embeddings = EncoderBatching.EmbedAll(encoder, validation.Features, cancellationToken: cancellationToken)
            .Select(e => SpeakerEmbeddings.Center(e, mean)).ToArray();
        var (targets, nonTargets) = problem.ScoreValidationTrials(embeddings);
        return (mean, VerificationMetrics.EqualErrorRate(targets, nonTargets));
    }

    /// <summary>
    /// The speakers <see cref="Train"/> trains on and holds out for validation: a fraction
    /// <see cref="SpeakerTrainingRequest.ValidationFraction"/> of them (at least 2), drawn at random with the trainer seed.
    /// </summary>
    /// <returns>Both lists, sorted ordinally.</returns>
    /// <exception cref="ArgumentException">A fraction outside (0, 1), or fewer than 4 speakers.</exception>
    public static (IReadOnlyList<string> Train, IReadOnlyList<string> Validation) SplitSpeakers(SpeakerDataset dataset, SpeakerTrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(request);
        if (ValidationFractionProblem(request) is { } fractionProblem)
            throw new ArgumentException(fractionProblem, nameof(request));
        int validationCount = Math.Max(2, (int)Math.Round(dataset.Speakers.Count * request.ValidationFraction));
        if (dataset.Speakers.Count - validationCount < 2)
            throw new ArgumentException($"Training needs at least 4 speakers (2 to train, 2 to validate); the dataset has {dataset.Speakers.Count}.", nameof(dataset));
        var shuffled = dataset.Speakers.ToArray();
        new Random(request.Trainer.Seed).Shuffle(shuffled);
        var validation = shuffled.Take(validationCount).ToArray();
        var held = validation.ToHashSet(StringComparer.Ordinal);
        return (dataset.Speakers.Where(s => !held.Contains(s)).Order(StringComparer.Ordinal).ToArray(), validation.Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>
    /// The validation metrics of the weights <see cref="Train"/> kept: the weight average when
    /// <see cref="TrainerOptions.AverageFromEpoch"/> was set, the best epoch's otherwise.
    /// </summary>
    public static IReadOnlyDictionary<string, double> KeptMetrics(SpeakerTrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Result.Averaged?.Metrics ?? result.Result.History.First(h => h.Epoch == result.Result.BestEpoch).Metrics;
    }

    /// <summary>Metadata describing a training run, for <see cref="SpeakerModelFile.Save"/>.</summary>
    public static JsonObject Describe(SpeakerTrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var kept = KeptMetrics(result);
        var averaged = result.Result.Averaged;
        return new JsonObject
        {
            ["best_epoch"] = result.Result.BestEpoch,
            ["averaged_epochs"] = averaged is null ? null : new JsonArray(averaged.FirstEpoch, averaged.LastEpoch),
            ["val_eer"] = kept["val_eer"],
            ["val_min_dcf"] = kept["val_min_dcf"],
            ["val_eer_centered"] = result.CenteredValidation is { } c ? c.Eer : null,
            ["train_speakers"] = new JsonArray(result.TrainSpeakers.Select(s => (JsonNode?)s).ToArray()),
            ["validation_speakers"] = new JsonArray(result.ValidationSpeakers.Select(s => (JsonNode?)s).ToArray()),
            ["history"] = JsonSerializer.SerializeToNode(result.Result.History.Select(h => new { h.Epoch, h.TrainLoss, h.Metrics, h.SamplesPerSecond, h.TrainSeconds }), ModelArchitectures.JsonOptions),
        };
    }

    /// <summary>Removes a scratch folder; a failure to do so must not replace the exception that ended the training.</summary>
    private static void TryDeleteFolder(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}
