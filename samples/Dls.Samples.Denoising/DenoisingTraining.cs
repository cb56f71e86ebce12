using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dls.Compression.LowRank;
using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using Dls.Models.Training;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Denoising;

/// <summary>The <c>denoise-train</c> task.</summary>
internal static class DenoisingTraining
{
    private const int SampleRate = Denoiser.DefaultSampleRate;

    /// <summary>One architecture to train: how to build it, how long to train it, and whether to compress it.</summary>
    internal sealed record Spec(string Name, Func<IMaskNetwork> Create, DenoisingLoss Loss, int Epochs, int FineTuneEpochs, bool Compress = true);

    // Signals the per-bin input statistics are measured on: the fixed pairs plus this many on-the-fly mixtures.
    private const int StatisticsMixtures = 256;

    public static Task RunAsync(TaskContext ctx, CancellationToken ct) => Task.Run(() => Run(ctx, ct), ct);

    private static void Run(TaskContext ctx, CancellationToken ct)
    {
        ctx.Results.CheckMergeable("denoise");   // a damaged denoise.json stops the task now, not after training
        DenoisingModels.RegisterArchitectures();
        string root = SampleData.Resolve(ctx.DataDirectory, "denoise");
        DenoisingData data = DenoisingData.Load(root, SampleRate, ctx.Seed);
        ctx.Logger.LogInformation("denoise-train data: {Data}", data.Description);
        IReadOnlyList<DenoisingExample> validation = ctx.Quick ? data.Validation.Take(4).ToArray() : data.Validation;
        IReadOnlyList<DenoisingExample> test = ctx.Quick ? data.Test.Take(4).ToArray() : data.Test;
        Spec[] specs = ctx.Quick ? QuickSpecs() : ctx.DataDirectory is null ? EmbeddedSpecs() : FullSpecs();
        var trainingOptions = new DenoisingTrainingOptions
        {
            BatchSize = ctx.Quick ? 4 : 16,
            BatchesPerEpoch = ctx.Quick ? 3 : 40,
            // 1 s excerpts: the length of the corpus' pairs (and of its test files), and a third less work than 1.5 s on the
            // embedded data, whose on-the-fly utterances are longer.
            MaxSegmentSamples = ctx.Quick ? 8192 : 16000,
        };

        string modelDir = Path.Combine(ctx.OutputDirectory, "denoise", "models");
        string workDir = Path.Combine(ctx.OutputDirectory, "denoise", "work");
        // Finished models wait here until every model of the run is trained and scored; only then do they replace the
        // previous run's in models/, written as one unit with the figures that describe them (a failed run leaves both intact).
        string finishedDir = Path.Combine(workDir, "finished");
        var finished = new List<(string Staged, string Published)>();
        Directory.CreateDirectory(modelDir);
        Directory.CreateDirectory(finishedDir);

        DenoisingReport validationOracle = DenoisingEvaluation.Evaluate(validation, x => x, includeOracles: true, ct);
        DenoisingReport? testOracle = test.Count > 0 ? DenoisingEvaluation.Evaluate(test, x => x, includeOracles: true, ct) : null;
        FeatureStatistics statistics = MeasureStatistics(data, trainingOptions, ctx.Seed, ctx.Quick ? 8 : StatisticsMixtures);
        var models = new JsonObject();
        var points = new List<(string Family, string Name, long Parameters, double Improvement)>();
        var curves = new List<PlotSeries>();
        var table = new StringBuilder("| model | parameters | size | lookahead | validation SNR impr. (dB) | test SNR impr. (dB) | test SI-SDR impr. (dB) | loss | train s |\n|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
        var typeRows = new List<(string Name, IReadOnlyDictionary<string, double> ByType)>();
        string? best = null;
        double bestValidation = double.NegativeInfinity;

        // The networks draw their initial weights from torch's global generator, whose state at process start differs from
        // run to run: seeded once here, the first network starts the same in every run, and the later ones already did
        // (they are created after the trainer's per-epoch seeding of the earlier ones).
        torch.manual_seed(ctx.Seed);
        foreach (Spec spec in specs)
        {
            ct.ThrowIfCancellationRequested();
            var problem = new DenoisingTrainingProblem(data.Fixed, data.Mixer, validation, trainingOptions with { Loss = spec.Loss });
            IMaskNetwork network = spec.Create();
            using var module = (nn.Module)network;   // disposed after each model, also when training fails or is cancelled
            if (network.NormalizesInput)
            {
                network.SetInputStatistics(statistics);
            }

            (TrainingResult result, double seconds) = Train(ctx, spec.Name, module, problem, spec.Epochs, 1e-3, Path.Combine(workDir, spec.Name + ".ckpt"), ct);
            curves.Add(new PlotSeries(spec.Name, result.History.Select(h => (double)h.Epoch).ToArray(), result.History.Select(h => h.Metrics[DenoisingTrainingProblem.SnrImprovementMetric]).ToArray()));
            string parentPath = Path.Combine(finishedDir, spec.Name + ".ckpt");
            JsonObject parentMeta = Provenance(data, spec.Loss, result.BestEpoch, result.History.Count);
            DenoisingModels.Save(parentPath, network, SampleRate, parentMeta);
            JsonObject parentJson = Score(ctx, data, network, validation, test, parentPath, MarkForPublishing(parentPath), ct);
            SaveWithFigures(parentPath, network, parentMeta, parentJson);
            parentJson["loss"] = spec.Loss.ToString();
            parentJson["epochs"] = result.History.Count;
            parentJson["best_epoch"] = result.BestEpoch;
            parentJson["train_seconds"] = Math.Round(seconds, 1);
            models[spec.Name] = parentJson;
            Add(spec.Name, spec.Name, parentJson, spec.Loss.ToString(), seconds);

            if (spec.Compress)
            {
                // Compression: SVD of every linear layer under a budget of one fifth of the parent's parameters, then fine-tuning.
                IMaskNetwork compressed = Reload(parentPath);
                using var compressedModule = (nn.Module)compressed;
                long parentParameters = parentJson["parameters"]!.GetValue<long>();
                CompressionReport compression = ModelCompressor.Compress(compressedModule, CompressionPolicy.ParameterBudgetOf(parentParameters / 5));
                double beforeFineTune = Evaluate(compressed, validation, ct).SnrImprovementDb;
                var fineTuneProblem = new DenoisingTrainingProblem(data.Fixed, data.Mixer, validation, trainingOptions with { Loss = spec.Loss });
                string compressedName = spec.Name + "-compressed";
                (TrainingResult ft, double ftSeconds) = Train(ctx, compressedName, compressedModule, fineTuneProblem, spec.FineTuneEpochs, 5e-4, Path.Combine(workDir, compressedName + ".ckpt"), ct);
                string compressedPath = Path.Combine(finishedDir, compressedName + ".ckpt");
                JsonObject compressedMeta = Provenance(data, spec.Loss, ft.BestEpoch, ft.History.Count);
                compressedMeta["compressed_from"] = spec.Name;
                DenoisingModels.Save(compressedPath, compressed, SampleRate, compressedMeta);
                JsonObject compressedJson = Score(ctx, data, compressed, validation, test, compressedPath, MarkForPublishing(compressedPath), ct);
                SaveWithFigures(compressedPath, compressed, compressedMeta, compressedJson);
                compressedJson["compressed_from"] = spec.Name;
                compressedJson["compression_ratio"] = Math.Round((double)parentParameters / compressedJson["parameters"]!.GetValue<long>(), 2);
                compressedJson["validation_snr_improvement_before_fine_tuning_db"] = DenoisingReports.Round(beforeFineTune);
                compressedJson["ranks"] = new JsonObject(compression.Layers.Where(l => l.Decision == LayerDecision.Factorized).Select(l => KeyValuePair.Create(l.Name, (JsonNode?)l.Rank)));
                compressedJson["fine_tune_epochs"] = ft.History.Count;
                compressedJson["train_seconds"] = Math.Round(ftSeconds, 1);
                models[compressedName] = compressedJson;
                Add(spec.Name, compressedName, compressedJson, spec.Loss + ", SVD + fine-tuning", ftSeconds);
            }
        }

        JsonObject results = new()
        {
            ["data"] = data.Description,
            ["validation_files"] = validation.Count,
            ["validation_input_snr_db"] = DenoisingReports.Round(validationOracle.InputSnrDb),
            ["validation_oracle_irm_snr_improvement_db"] = validationOracle.OracleIrmImprovementDb is double virm ? DenoisingReports.Round(virm) : null,
            ["test_files"] = test.Count,
            ["input_snr_db"] = DenoisingReports.Round((testOracle ?? validationOracle).InputSnrDb),
            ["oracle_irm_snr_improvement_db"] = (testOracle ?? validationOracle).OracleIrmImprovementDb is double irm ? DenoisingReports.Round(irm) : null,
            ["oracle_power_snr_improvement_db"] = (testOracle ?? validationOracle).OraclePowerImprovementDb is double pw ? DenoisingReports.Round(pw) : null,
            ["scored_on"] = test.Count > 0 ? "test" : "validation",
            ["quick"] = ctx.Quick,
            ["models"] = models,
            ["best_model"] = best,
            ["best_snr_improvement_db"] = best is null ? null : models[best]!["snr_improvement_db"]!.GetValue<double>(),
        };
        if (testOracle is not null && data.TestNoiseTypes.Count > 0)
        {
            results["oracle_irm_per_noise_type"] = ByType(data, testOracle, f => f.OracleIrmSnrDb!.Value - f.InputSnrDb).ToJson();
        }

        // The trained models replace the published ones together with the figures measured on them, as one unit.
        ctx.Results.MergeJson("denoise", results, finished.SelectMany(f => Checkpoint.ReadFiles(f.Staged).WritesTo(f.Published)).ToList());

        string scatter = ctx.Results.PathFor("denoise-parameters-vs-snr.png");
        Plots.Scatter(scatter, "Denoising: parameters vs SNR improvement", "parameters", "SNR improvement (dB)",
            points.GroupBy(p => p.Family).Select(g => new PlotSeries(g.Key, g.Select(p => (double)p.Parameters).ToArray(), g.Select(p => p.Improvement).ToArray())), logX: true);
        string curvePath = ctx.Results.PathFor("denoise-validation-curves.png");
        Plots.Lines(curvePath, "Denoising: validation SNR improvement per epoch", "epoch", "SNR improvement (dB)", curves);

        var md = new StringBuilder();
        md.AppendLine("## Speech denoising (denoise-train)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Data: {data.Description}.").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Validation (selects the best epoch and the best model): {validation.Count} files, mean input SNR {validationOracle.InputSnrDb:F2} dB, ideal ratio mask {validationOracle.OracleIrmImprovementDb:F2} dB.");
        if (testOracle is not null)
        {
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Test (scored after training only): {test.Count} files, mean input SNR {testOracle.InputSnrDb:F2} dB; oracle masks with the noisy phase: ideal ratio mask {testOracle.OracleIrmImprovementDb:F2} dB, power ratio mask {testOracle.OraclePowerImprovementDb:F2} dB SNR improvement.");
        }

        md.AppendLine().Append(table).AppendLine();
        if (typeRows.Count > 0 && testOracle is not null)
        {
            string[] types = data.TestNoiseTypes.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            md.AppendLine("Test SNR improvement (dB) by noise type:").AppendLine();
            md.AppendLine($"| model | {string.Join(" | ", types)} |").AppendLine($"|---|{string.Concat(types.Select(_ => "---:|"))}");
            IReadOnlyDictionary<string, double> oracleByType = ByType(data, testOracle, f => f.OracleIrmSnrDb!.Value - f.InputSnrDb);
            foreach ((string name, IReadOnlyDictionary<string, double> byType) in typeRows.Append(("oracle IRM", oracleByType)))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {string.Join(" | ", types.Select(t => byType.TryGetValue(t, out double v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "—"))} |");
            }

            md.AppendLine();
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"Best by validation: **{best}** ({bestValidation:F2} dB on validation).{(ctx.Quick ? " (quick mode: tiny networks, a few batches — figures are not meaningful)" : string.Empty)}").AppendLine();
        md.AppendLine($"![parameters vs SNR]({Path.GetFileName(scatter)}) ![validation curves]({Path.GetFileName(curvePath)})");
        ctx.Results.WriteMarkdown("denoise-train", md.ToString());
        ctx.Out.WriteLine(md.ToString());

        // Adds a model trained into finishedDir to those published into models/ with the figures; returns where it will
        // be (what the figures name as its checkpoint).
        string MarkForPublishing(string staged)
        {
            string published = Path.Combine(modelDir, Path.GetFileName(staged));
            finished.Add((staged, published));
            return published;
        }

        void Add(string family, string name, JsonObject json, string loss, double seconds)
        {
            double improvement = json["snr_improvement_db"]!.GetValue<double>();
            double onValidation = json["validation"]!["snr_improvement_db"]!.GetValue<double>();
            long parameters = json["parameters"]!.GetValue<long>();
            points.Add((family, name, parameters, improvement));
            string testSnr = json["test"] is JsonObject t ? t["snr_improvement_db"]!.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture) : "—";
            string testSiSdr = json["test"] is JsonObject t2 ? t2["si_sdr_improvement_db"]!.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture) : "—";
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {parameters:N0} | {json["file_bytes"]!.GetValue<long>() / 1024.0:F0} KiB | {json["lookahead_frames"]} | {onValidation:F2} | {testSnr} | {testSiSdr} | {loss} | {seconds:F0} |");
            if (json["test"]?["per_noise_type"] is JsonObject byType)
            {
                typeRows.Add((name, byType.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>(), StringComparer.Ordinal)));
            }

            if (onValidation > bestValidation)
            {
                bestValidation = onValidation;
                best = name;
            }
        }
    }

    /// <summary>
    /// The architectures of the full run: the assignment's FC network and the causal GRU (with the input skip), both
    /// on standardised input with the waveform SNR loss. Probes of 40 epochs on the shared corpus (validation on
    /// held-out train speakers) chose these settings: standardisation +0.2 dB, input skip +0.2 dB, the SNR loss
    /// +0.2 dB for the FC network; a mask bound above 1 (1.25, 2) lost 0.6 dB or more, a front layer gave nothing, and
    /// 2 frames of lookahead only +0.06 dB (not worth the extra latency). At 160 epochs a GRU of 200 and a two-layer
    /// GRU of 160 both gained about 0.12 dB over one layer of 160. With more training voices and music
    /// (<c>extra-data/make-denoise-extras.sh</c>), 40-epoch probes scored on held-out voices mixed with held-out babble,
    /// music, white and pink noise (Dls.Models/Denoising/README.md) chose hidden 400 (+0.26 dB over 200) and the mask
    /// refiner of 16 channels over 3 frames × 5 bins (+0.18 dB at hidden 400, +0.23 dB at 200); 7 frames or 32 channels ×
    /// 9 bins gave no more, a sub-band GRU per bin as much at four times the training time, a second GRU layer and 8 frames
    /// of lookahead nothing.
    /// </summary>
    internal static Spec[] FullSpecs() =>
    [
        new("fc-mask", () => new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 512) { NormalizeInput = true }), DenoisingLoss.WaveformSnr, 60, 10),
        new("gru-mask", () => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 400) { NormalizeInput = true, InputSkip = true, RefinerChannels = 16 }), DenoisingLoss.WaveformSnr, 160, 12),
    ];

    /// <summary>
    /// The embedded default data (part of <c>reproduce</c>): the same networks, the GRU trained 40 epochs instead of 160
    /// (the length of the probes that chose the recipe). With hidden 400 and the refiner an epoch costs about four
    /// times the previous GRU's; 160 epochs on 2 cores took 25 minutes, which would have doubled <c>reproduce</c>.
    /// </summary>
    internal static Spec[] EmbeddedSpecs() =>
        FullSpecs().Select(s => s.Name == GruMaskNetwork.ArchitectureName ? s with { Epochs = 40 } : s).ToArray();

    /// <summary>Quick mode: tiny networks and a handful of batches, to show the pipeline end to end in seconds.</summary>
    private static Spec[] QuickSpecs() =>
    [
        new("fc-mask", () => new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 64) { NormalizeInput = true }), DenoisingLoss.WaveformSnr, 2, 1),
        new("gru-mask", () => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 32) { NormalizeInput = true, InputSkip = true, RefinerChannels = 4 }), DenoisingLoss.WaveformSnr, 2, 1),
    ];

    /// <summary>Per-bin statistics of the training inputs: the fixed pairs and mixtures of the mixer (own seed).</summary>
    private static FeatureStatistics MeasureStatistics(DenoisingData data, DenoisingTrainingOptions options, int seed, int mixtures)
    {
        var rng = new Random(seed + 104729);
        return MaskFeatures.Measure(data.Fixed.Select(e => e.Noisy)
            .Concat(Enumerable.Range(0, mixtures).Select(_ => data.Mixer.Mix(rng, options.MaxSegmentSamples).Noisy)));
    }

    /// <summary>Saves the checkpoint again with its measured figures in the metadata (the weights are unchanged).</summary>
    private static void SaveWithFigures(string path, IMaskNetwork network, JsonObject metadata, JsonObject scores)
    {
        metadata["validation_snr_improvement_db"] = scores["validation"]!["snr_improvement_db"]!.DeepClone();
        if (scores["test"] is JsonObject test)
        {
            metadata["test_files"] = test["files"]!.DeepClone();
            metadata["test_snr_improvement_db"] = test["snr_improvement_db"]!.DeepClone();
            metadata["test_si_sdr_improvement_db"] = test["si_sdr_improvement_db"]!.DeepClone();
        }

        DenoisingModels.Save(path, network, SampleRate, metadata);
    }

    /// <summary>What a checkpoint records of how it was made (the README's provenance comes from here).</summary>
    private static JsonObject Provenance(DenoisingData data, DenoisingLoss loss, int bestEpoch, int epochs) => new()
    {
        ["best_epoch"] = bestEpoch,
        ["epochs"] = epochs,
        ["loss"] = loss.ToString(),
        ["trained_with"] = "dls-samples run denoise-train",
        ["data"] = data.Description,
        ["selected_on"] = "validation SNR improvement (held-out train speakers)",
    };

    private static (TrainingResult Result, double Seconds) Train(TaskContext ctx, string name, nn.Module model, DenoisingTrainingProblem problem, int epochs, double learningRate, string checkpoint, CancellationToken ct)
    {
        var options = new TrainerOptions
        {
            Epochs = epochs,
            LearningRate = learningRate,
            Seed = ctx.Seed,
            MonitorMetric = DenoisingTrainingProblem.SnrImprovementMetric,
            HigherIsBetter = true,
            CheckpointPath = checkpoint,
            GradientClipNorm = 5,
            Schedule = LearningRateSchedule.Cosine,
            MinLearningRate = learningRate / 10,
        };
        using IProgressTask task = ctx.Progress.Start($"denoise-train {name}", (long)epochs * problem.Options.BatchesPerEpoch);
        var progress = new Progress<TrainingProgress>(p =>
        {
            long done = ((long)(p.Epoch - 1) * problem.Options.BatchesPerEpoch) + p.Batch;
            string detail = p.Metrics.TryGetValue(DenoisingTrainingProblem.SnrImprovementMetric, out double v) ? $" val {v:F2} dB"
                : double.IsNaN(p.RunningLoss) ? "" // no loss read back yet in this epoch
                : $" loss {p.RunningLoss:F4}";
            string status = $"epoch {p.Epoch}/{p.Epochs}{detail}";
            task.Report(Math.Min(done, (long)epochs * problem.Options.BatchesPerEpoch), status);
        });
        var watch = Stopwatch.StartNew();
        TrainingResult result = new Trainer(options, ctx.Logger).Fit(model, problem, progress, ct);
        watch.Stop();
        if (result.CheckpointPath is { } best)
        {
            // Keep the best epoch's weights, not the last one's.
            Checkpoint.LoadInto(model, best);
        }

        model.eval();
        ctx.Logger.LogInformation("{Name}: best {Metric} {Best:F2} dB at epoch {Epoch}/{Epochs} in {Seconds:F0} s", name, result.MonitorMetric, result.BestMetric, result.BestEpoch, result.History.Count, watch.Elapsed.TotalSeconds);
        return (result, watch.Elapsed.TotalSeconds);
    }

    private static IMaskNetwork Reload(string path) => DenoisingModels.Load(path).Network;


    private static DenoisingReport Evaluate(IMaskNetwork network, IReadOnlyList<DenoisingExample> validation, CancellationToken ct)
    {
        // The denoiser's engine (block-wise, as users run it), without taking ownership of the network.
        var module = (nn.Module)network;
        bool training = module.training;
        module.eval();
        try
        {
            using var denoiser = new Denoiser(network, SampleRate, ownsNetwork: false);
            return DenoisingEvaluation.Evaluate(validation, x => denoiser.Denoise(x, SampleRate), includeOracles: false, ct);
        }
        finally
        {
            module.train(training);
        }
    }

    private static JsonObject Score(TaskContext ctx, DenoisingData data, IMaskNetwork network, IReadOnlyList<DenoisingExample> validation, IReadOnlyList<DenoisingExample> test, string path, string publishedPath, CancellationToken ct)
    {
        DenoisingReport onValidation = Evaluate(network, validation, ct);
        DenoisingReport? onTest = test.Count > 0 ? Evaluate(network, test, ct) : null;
        // The headline figures are the test set's when there is one (never used for any choice), else validation's.
        JsonObject json = DenoisingReports.ToJson(onTest ?? onValidation);
        json["parameters"] = ((nn.Module)network).parameters().Sum(p => p.numel());
        json["file_bytes"] = new FileInfo(path).Length;
        json["lookahead_frames"] = network.LookaheadFrames;
        json["checkpoint"] = Path.GetFullPath(publishedPath);
        json["validation"] = DenoisingReports.ToJson(onValidation);
        if (onTest is not null)
        {
            JsonObject testJson = DenoisingReports.ToJson(onTest);
            if (data.TestNoiseTypes.Count > 0)
            {
                testJson["per_noise_type"] = ByType(data, onTest, f => f.SnrImprovementDb).ToJson();
            }

            json["test"] = testJson;
        }

        ctx.Logger.LogInformation(
            "{Architecture} ({Parameters} parameters): SNR improvement {Validation:F2} dB on validation, {Test} dB on test",
            network.Architecture, json["parameters"], onValidation.SnrImprovementDb, onTest is null ? "—" : onTest.SnrImprovementDb.ToString("F2", CultureInfo.InvariantCulture));
        return json;
    }

    private static IReadOnlyDictionary<string, double> ByType(DenoisingData data, DenoisingReport report, Func<DenoisingFileScore, double> value) =>
        report.Files.Where(f => data.TestNoiseTypes.ContainsKey(f.Name))
            .GroupBy(f => data.TestNoiseTypes[f.Name], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => DenoisingReports.Round(g.Average(value)), StringComparer.Ordinal);

    private static JsonObject ToJson(this IReadOnlyDictionary<string, double> values) =>
        new(values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
}
