using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Training;
using Dls.Samples.Abstractions;
using Dls.Speaker.Compression;
using Dls.Speaker.Data;
using Dls.Speaker.Evaluation;
using Dls.Speaker.Training;
using Dls.Speaker.Verification;
using Microsoft.Extensions.Logging;

namespace Dls.Samples.Speaker;

/// <summary>
/// <c>run speaker-train</c>: Siamese training on the train speakers of the data folder (validation speakers held out of
/// them), evaluation on its unseen test speakers beside the no-learning baseline, a DET plot, the compression sweep.
/// </summary>
internal static class SpeakerTrainTask
{
    /// <summary>
    /// Full-run settings: the shipped model was trained with these on the full corpus (see Dls.Speaker/README.md for what
    /// each measured on the development split).
    /// </summary>
    public static SpeakerTrainingRequest FullRequest(int seed) => new()
    {
        // Cosines of embeddings centered on the training speakers' mean embedding.
        CenterEmbeddings = true,
        Training = new SpeakerTrainingOptions
        {
            PairsPerEpoch = 1024,
            // Batches of 16 identities × 4 utterances, half of the identities the nearest voices of the other half.
            SpeakersPerBatch = 16,
            UtterancesPerSpeaker = 4,
            HardNegativeIdentities = 8,
            MinCropFrames = 24,
            MaxCropFrames = 48,
            // Nine vocal-tract lengths per training voice (0.80–1.20 in steps of 0.05): 9× the identities.
            WarpFactors = [0.80, 0.85, 0.90, 0.95, 1.0, 1.05, 1.10, 1.15, 1.20],
            // Two frequency masks of up to 40 bins per crop: without them the encoder overfits the training voices.
            FrequencyMasks = 2,
            FrequencyMaskMaxBins = 40,
            // The 4 random validation speakers are told apart from the first epochs on; later epochs keep improving on
            // close voices, so ties go to the later epoch.
            SelectionTieBreak = SelectionTieBreak.LatestEpoch,
            // Four more identities per voice: first formant and higher formants moved in opposite directions (knee 1 kHz).
            BandWarps = [new(1.1, 0.9), new(0.9, 1.1), new(1.05, 0.95), new(0.95, 1.05)],
        },
        Trainer = new TrainerOptions
        {
            Epochs = 16,
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.Cosine,
            MinLearningRate = 1e-4,
            GradientClipNorm = 5.0,
            // The kept encoder is the mean of the weights after epochs 9–16 (the second half of the cosine schedule).
            AverageFromEpoch = 9,
            Seed = seed,
        },
    };

    /// <summary>Quick settings: a couple of small epochs, enough to exercise every step in well under a minute.</summary>
    public static SpeakerTrainingRequest QuickRequest(int seed) => FullRequest(seed) with
    {
        Training = FullRequest(seed).Training with { PairsPerEpoch = 48, SpeakersPerBatch = 8, HardNegativeIdentities = 4, MaxCropFrames = 32 },
        Trainer = FullRequest(seed).Trainer with { Epochs = 2, AverageFromEpoch = 1 },
    };

    public static Task RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        context.Results.CheckMergeable("speaker");   // a damaged speaker.json stops the task now, not after training
        string root = SampleData.Resolve(context.DataDirectory, "speaker");
        var (train, trainDescription) = SpeakerData.Select(root, "train");
        var (test, testDescription) = SpeakerData.Select(root, "test");
        if (SpeakerSplit.Find(root) is null)
            throw new InvalidDataException($"The data folder '{root}' needs a speakers.csv (speaker_id and split columns) that puts disjoint speakers in 'train' and 'test'; found none, with {train.Speakers.Count} speaker folder(s).");
        var shared = train.Speakers.Intersect(test.Speakers).ToList();
        if (shared.Count > 0)
            throw new InvalidDataException($"The data folder '{root}' needs disjoint 'train' and 'test' speakers; found {trainDescription} and {testDescription}, sharing [{string.Join(", ", shared)}].");
        context.Logger.LogInformation("Training on {Train}; testing on {Test}.", trainDescription, testDescription);

        var request = context.Quick ? QuickRequest(context.Seed) : FullRequest(context.Seed);
        var watch = Stopwatch.StartNew();
        SpeakerTrainingResult trained;
        using (var progress = context.Progress.Start("speaker-train epochs", request.Trainer.Epochs))
        {
            var reporter = new SynchronousProgress(p =>
            {
                if (p.Kind == TrainingProgressKind.Epoch)
                    progress.Report(p.Epoch, $"val_eer {p.Metrics.GetValueOrDefault("val_eer"):P2}");
            });
            trained = SpeakerTraining.Train(train, request, context.Logger, reporter, cancellationToken);
        }
        double trainSeconds = watch.Elapsed.TotalSeconds;
        // Owns the trained encoder from here on, so it is released however the rest of the task ends.
        using var embedder = new SpeakerEmbedder(trained.Model);

        string modelPath = context.Results.PathFor("speaker-model.ckpt");
        var metadata = SpeakerTraining.Describe(trained);
        metadata["data"] = Path.GetFileName(Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar));
        metadata["quick"] = context.Quick;
        // Provenance: how to make this model again, and the recipe it came from.
        metadata["command"] = $"dls-samples --threads {TorchSharp.torch.get_num_threads()} run speaker-train --data {root} --seed {context.Seed}{(context.Quick ? " --quick" : "")}";
        metadata["recipe"] = new JsonObject
        {
            ["training"] = JsonSerializer.SerializeToNode(request.Training, ModelArchitectures.JsonOptions),
            ["trainer"] = JsonSerializer.SerializeToNode(request.Trainer with { CheckpointPath = null, MonitorMetric = "val_selection", HigherIsBetter = false }, ModelArchitectures.JsonOptions),
            ["validation_fraction"] = request.ValidationFraction,
        };
        metadata["train_seconds"] = Math.Round(trainSeconds, 1);

        var trials = TrialList.Generate(test, context.Seed);
        // Every pair as well: the EER without the sampling noise of the seeded different-speaker half.
        var allPairs = TrialList.GenerateAll(test);
        var evaluations = SpeakerEvaluation.Evaluate(embedder, [trials, allPairs]);
        var (evaluation, exhaustive) = (evaluations[0], evaluations[1]);
        var baseline = SpeakerEvaluation.Baseline(trials);
        var exhaustiveBaseline = SpeakerEvaluation.Baseline(allPairs);
        var (miss, falseAccept) = evaluation.RatesAt(trained.Model.Threshold);
        var size = SpeakerEncoderCompression.Measure(trained.Model.Encoder);

        var compression = new JsonArray();
        var sweep = new List<(long Parameters, double Eer)> { (size.Parameters, evaluation.Eer.Eer) };
        (int Input, int Output)[] ranks = context.Quick ? [(64, 32)] : [(256, 128), (128, 64), (64, 32), (32, 16), (16, 8)];
        foreach (var (inputRank, outputRank) in ranks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var small = SpeakerEncoderCompression.Compress(trained.Model.Encoder, inputRank, outputRank);
            using var smallEmbedder = new SpeakerEmbedder(trained.Model with { Encoder = small });
            var r = SpeakerEvaluation.Evaluate(smallEmbedder, trials);
            var s = SpeakerEncoderCompression.Measure(small);
            sweep.Add((s.Parameters, r.Eer.Eer));
            compression.Add(new JsonObject
            {
                ["input_rank"] = inputRank,
                ["output_rank"] = outputRank,
                ["parameters"] = s.Parameters,
                ["macs_per_frame"] = s.MacsPerFrame,
                ["eer"] = Math.Round(r.Eer.Eer, 5),
                ["min_dcf"] = Math.Round(r.MinDcf.MinDcf, 5),
            });
        }

        DetPlot.Save(context.Results.PathFor("speaker_det.png"), "DET curve, unseen test speakers",
            [("GRU encoder", evaluation), ("mean log-spectrum baseline", baseline)]);
        ScorePlot.Save(context.Results.PathFor("speaker_scores.png"), "Score distributions, unseen test speakers", evaluation, trained.Model.Threshold,
            "threshold (validation EER)");
        Plots.Lines(context.Results.PathFor("speaker_compression.png"), "EER against encoder size (truncated SVD, no fine-tuning)", "trainable parameters", "EER (%)",
            [new PlotSeries("GRU encoder", sweep.Select(p => (double)p.Parameters).ToArray(), sweep.Select(p => 100 * p.Eer).ToArray())], logX: true);

        Plots.Lines(context.Results.PathFor("speaker_training.png"), "Speaker training: validation EER per epoch (held-out train speakers)", "epoch", "validation EER (%)",
            TrainingSeries(trained.Result));

        var kept = SpeakerTraining.KeptMetrics(trained);
        var figures = new JsonObject
        {
            ["speakers"] = evaluation.Speakers,
            ["trials"] = evaluation.Trials,
            ["eer"] = Math.Round(evaluation.Eer.Eer, 5),
            ["min_dcf"] = Math.Round(evaluation.MinDcf.MinDcf, 5),
            ["threshold_eer"] = Math.Round(evaluation.Eer.Threshold, 5),
            ["baseline_eer"] = Math.Round(baseline.Eer.Eer, 5),
            ["baseline_min_dcf"] = Math.Round(baseline.MinDcf.MinDcf, 5),
            ["trials_all_pairs"] = exhaustive.Trials,
            ["eer_all_pairs"] = Math.Round(exhaustive.Eer.Eer, 5),
            ["min_dcf_all_pairs"] = Math.Round(exhaustive.MinDcf.MinDcf, 5),
            ["baseline_eer_all_pairs"] = Math.Round(exhaustiveBaseline.Eer.Eer, 5),
            ["threshold_calibrated"] = Math.Round(trained.Model.Threshold, 5),
            ["miss_rate_at_calibrated"] = Math.Round(miss, 5),
            ["false_accept_rate_at_calibrated"] = Math.Round(falseAccept, 5),
            ["val_eer"] = Math.Round(kept["val_eer"], 5),
            ["best_epoch"] = trained.Result.BestEpoch,
            ["averaged_epochs"] = trained.Result.Averaged is { } averaged ? $"{averaged.FirstEpoch}-{averaged.LastEpoch}" : null,
            ["epochs"] = trained.Result.History.Count,
            ["train_speakers"] = trained.TrainSpeakers.Count,
            ["validation_speakers"] = trained.ValidationSpeakers.Count,
            ["parameters"] = size.Parameters,
            ["train_seconds"] = Math.Round(trainSeconds, 1),
            ["train_pairs_per_s"] = Math.Round(trained.Result.History.Average(h => h.SamplesPerSecond), 1),
            ["compression"] = compression,
            ["model"] = modelPath,
            ["quick"] = context.Quick,
        };
        // Published only now, after the evaluation and the compression sweep succeeded, and as one unit with the figures:
        // a run that fails on the way leaves the previous model and the figures describing it together.
        using (var scratch = ScratchFolder.Create("dls-speaker-train-"))
        {
            string staged = scratch.PathFor(Path.GetFileName(modelPath));
            SpeakerModelFile.Save(staged, trained.Model.Encoder, trained.Model.Features, trained.Model.Threshold, metadata, trained.Model.EmbeddingMean);
            context.Results.MergeJson("speaker", figures, Checkpoint.ReadFiles(staged).WritesTo(modelPath));
        }

        var md = new StringBuilder();
        md.AppendLine("## Speaker verification (speaker-train)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"BiGRU(513→2×256) → mean over frames → FC 512→256 → L2, trained as a Siamese network on {trained.TrainSpeakers.Count} speakers " +
            $"({trained.ValidationSpeakers.Count} more held out for validation), {trained.Result.History.Count} epochs in {trainSeconds:F0} s{(context.Quick ? " (quick run)" : "")}. " +
            $"Tested on {evaluation.Speakers} unseen speakers, {evaluation.Trials} trials (all same-speaker pairs + as many seeded different-speaker pairs).");
        md.AppendLine();
        md.AppendLine("| system | EER | minDCF (p=0.01) |");
        md.AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| GRU encoder | {evaluation.Eer.Eer:P2} | {evaluation.MinDcf.MinDcf:F3} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| mean log-spectrum cosine (no learning) | {baseline.Eer.Eer:P2} | {baseline.MinDcf.MinDcf:F3} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| GRU encoder, all {exhaustive.Trials} pairs ({exhaustive.NonTargetScores.Length} different-speaker, no sampling) | {exhaustive.Eer.Eer:P2} | {exhaustive.MinDcf.MinDcf:F3} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| mean log-spectrum cosine, all pairs | {exhaustiveBaseline.Eer.Eer:P2} | {exhaustiveBaseline.MinDcf.MinDcf:F3} |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Threshold calibrated at the validation EER: {trained.Model.Threshold:F3}; on the test trials it gives {miss:P2} misses and {falseAccept:P2} false accepts (test EER threshold {evaluation.Eer.Threshold:F3}).");
        md.AppendLine();
        md.AppendLine("| input rank | FC rank | parameters | EER | minDCF |");
        md.AppendLine("|---|---|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| dense | dense | {size.Parameters:N0} | {evaluation.Eer.Eer:P2} | {evaluation.MinDcf.MinDcf:F3} |");
        foreach (var row in compression)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {row!["input_rank"]} | {row["output_rank"]} | {row["parameters"]!.GetValue<long>():N0} | {row["eer"]!.GetValue<double>():P2} | {row["min_dcf"]!.GetValue<double>():F3} |");
        md.AppendLine();
        md.AppendLine("![DET](speaker_det.png) ![score distributions](speaker_scores.png) ![EER vs size](speaker_compression.png) ![validation EER per epoch](speaker_training.png)");
        context.Results.WriteMarkdown("speaker-train", md.ToString());

        context.Out.WriteLine($"speaker-train: test EER {evaluation.Eer.Eer:P2} (baseline {baseline.Eer.Eer:P2}; all pairs {exhaustive.Eer.Eer:P2}), minDCF {evaluation.MinDcf.MinDcf:F3}, " +
            $"{evaluation.Trials} trials on {evaluation.Speakers} unseen speakers; model {modelPath}");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The validation EER of every epoch, and, when the kept model is a weight average, its EER drawn across the epochs it
    /// averages (the model that is saved is then that line, not any epoch's point).
    /// </summary>
    private static IEnumerable<PlotSeries> TrainingSeries(TrainingResult result)
    {
        var history = result.History;
        yield return new PlotSeries("each epoch's weights", history.Select(h => (double)h.Epoch).ToArray(), history.Select(h => 100 * h.Metrics["val_eer"]).ToArray());
        if (result.Averaged is { } averaged)
        {
            double eer = 100 * averaged.Metrics["val_eer"];
            yield return new PlotSeries($"kept: weights averaged over epochs {averaged.FirstEpoch}-{averaged.LastEpoch}", [averaged.FirstEpoch, averaged.LastEpoch], [eer, eer]);
        }
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and race the bar).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
