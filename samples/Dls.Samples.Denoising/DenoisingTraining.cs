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

    /// <summary>One architecture to train: how to build it and how long to train it.</summary>
    private sealed record Spec(string Name, Func<IMaskNetwork> Create, DenoisingLoss Loss, int Epochs, int FineTuneEpochs);

    public static Task RunAsync(TaskContext ctx, CancellationToken ct) => Task.Run(() => Run(ctx, ct), ct);

    private static void Run(TaskContext ctx, CancellationToken ct)
    {
        DenoisingModels.RegisterArchitectures();
        string root = SampleData.Resolve(ctx.DataDirectory, "denoise");
        DenoisingData data = DenoisingData.Load(root, SampleRate, ctx.Seed);
        ctx.Logger.LogInformation("denoise-train data: {Data}", data.Description);
        IReadOnlyList<DenoisingExample> validation = ctx.Quick ? data.Validation.Take(4).ToArray() : data.Validation;
        // Quick mode: tiny networks and a handful of batches, to show the pipeline end to end in seconds.
        Spec[] specs = ctx.Quick
            ?
            [
                new("fc-mask", () => new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 64)), DenoisingLoss.Magnitude, 2, 1),
                new("gru-mask", () => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 32)), DenoisingLoss.WaveformSnr, 2, 1),
            ]
            :
            [
                new("fc-mask", () => new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 512)), DenoisingLoss.Magnitude, 60, 12),
                new("gru-mask", () => new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 160)), DenoisingLoss.WaveformSnr, 100, 15),
            ];
        var trainingOptions = new DenoisingTrainingOptions
        {
            BatchSize = ctx.Quick ? 4 : 16,
            BatchesPerEpoch = ctx.Quick ? 3 : 40,
            MaxSegmentSamples = ctx.Quick ? 8192 : 24000,
        };

        string modelDir = Path.Combine(ctx.OutputDirectory, "denoise", "models");
        string workDir = Path.Combine(ctx.OutputDirectory, "denoise", "work");
        Directory.CreateDirectory(modelDir);
        Directory.CreateDirectory(workDir);

        DenoisingReport oracle = DenoisingEvaluation.Evaluate(validation, x => x, includeOracles: true, ct);
        var models = new JsonObject();
        var points = new List<(string Family, string Name, long Parameters, double Improvement)>();
        var curves = new List<PlotSeries>();
        var table = new StringBuilder("| model | parameters | size | SNR improvement (dB) | SI-SDR improvement (dB) | loss | train s |\n|---|---:|---:|---:|---:|---|---:|\n");
        string? best = null;
        double bestImprovement = double.NegativeInfinity;

        foreach (Spec spec in specs)
        {
            ct.ThrowIfCancellationRequested();
            var problem = new DenoisingTrainingProblem(data.Fixed, data.Mixer, validation, trainingOptions with { Loss = spec.Loss });
            IMaskNetwork network = spec.Create();
            var module = (nn.Module)network;
            (TrainingResult result, double seconds) = Train(ctx, spec.Name, module, problem, spec.Epochs, 1e-3, Path.Combine(workDir, spec.Name + ".ckpt"), ct);
            curves.Add(new PlotSeries(spec.Name, result.History.Select(h => (double)h.Epoch).ToArray(), result.History.Select(h => h.Metrics[DenoisingTrainingProblem.SnrImprovementMetric]).ToArray()));
            string parentPath = Path.Combine(modelDir, spec.Name + ".ckpt");
            DenoisingModels.Save(parentPath, network, SampleRate, new JsonObject { ["best_epoch"] = result.BestEpoch, ["loss"] = spec.Loss.ToString() });
            JsonObject parentJson = Score(ctx, network, validation, parentPath, ct);
            parentJson["loss"] = spec.Loss.ToString();
            parentJson["epochs"] = result.History.Count;
            parentJson["best_epoch"] = result.BestEpoch;
            parentJson["train_seconds"] = Math.Round(seconds, 1);
            models[spec.Name] = parentJson;
            Add(spec.Name, spec.Name, parentJson, spec.Loss.ToString(), seconds);

            // Compression: SVD of every linear layer under a budget of one fifth of the parent's parameters, then fine-tuning.
            IMaskNetwork compressed = ((nn.Module)Reload(parentPath)) is IMaskNetwork c ? c : throw new InvalidOperationException("Reload failed.");
            long parentParameters = parentJson["parameters"]!.GetValue<long>();
            CompressionReport compression = ModelCompressor.Compress((nn.Module)compressed, CompressionPolicy.ParameterBudgetOf(parentParameters / 5));
            double beforeFineTune = Evaluate(compressed, validation, ct).SnrImprovementDb;
            var fineTuneProblem = new DenoisingTrainingProblem(data.Fixed, data.Mixer, validation, trainingOptions with { Loss = spec.Loss });
            string compressedName = spec.Name + "-compressed";
            (TrainingResult ft, double ftSeconds) = Train(ctx, compressedName, (nn.Module)compressed, fineTuneProblem, spec.FineTuneEpochs, 5e-4, Path.Combine(workDir, compressedName + ".ckpt"), ct);
            string compressedPath = Path.Combine(modelDir, compressedName + ".ckpt");
            DenoisingModels.Save(compressedPath, compressed, SampleRate, new JsonObject { ["compressed_from"] = spec.Name, ["best_epoch"] = ft.BestEpoch });
            JsonObject compressedJson = Score(ctx, compressed, validation, compressedPath, ct);
            compressedJson["compressed_from"] = spec.Name;
            compressedJson["compression_ratio"] = Math.Round((double)parentParameters / compressedJson["parameters"]!.GetValue<long>(), 2);
            compressedJson["snr_improvement_before_fine_tuning_db"] = DenoisingReports.Round(beforeFineTune);
            compressedJson["ranks"] = new JsonObject(compression.Layers.Where(l => l.Decision == LayerDecision.Factorized).Select(l => KeyValuePair.Create(l.Name, (JsonNode?)l.Rank)));
            compressedJson["fine_tune_epochs"] = ft.History.Count;
            compressedJson["train_seconds"] = Math.Round(ftSeconds, 1);
            models[compressedName] = compressedJson;
            Add(spec.Name, compressedName, compressedJson, spec.Loss + ", SVD + fine-tuning", ftSeconds);
            ((nn.Module)compressed).Dispose();
            module.Dispose();
        }

        JsonObject results = new()
        {
            ["data"] = data.Description,
            ["validation_files"] = validation.Count,
            ["input_snr_db"] = DenoisingReports.Round(oracle.InputSnrDb),
            ["oracle_irm_snr_improvement_db"] = oracle.OracleIrmImprovementDb is double irm ? DenoisingReports.Round(irm) : null,
            ["oracle_power_snr_improvement_db"] = oracle.OraclePowerImprovementDb is double pw ? DenoisingReports.Round(pw) : null,
            ["quick"] = ctx.Quick,
            ["models"] = models,
            ["best_model"] = best,
            ["best_snr_improvement_db"] = DenoisingReports.Round(bestImprovement),
        };
        ctx.Results.MergeJson("denoise", results);

        string scatter = ctx.Results.PathFor("denoise-parameters-vs-snr.png");
        Plots.Scatter(scatter, "Denoising: parameters vs SNR improvement", "parameters", "SNR improvement (dB)",
            points.GroupBy(p => p.Family).Select(g => new PlotSeries(g.Key, g.Select(p => (double)p.Parameters).ToArray(), g.Select(p => p.Improvement).ToArray())), logX: true);
        string curvePath = ctx.Results.PathFor("denoise-validation-curves.png");
        Plots.Lines(curvePath, "Denoising: validation SNR improvement per epoch", "epoch", "SNR improvement (dB)", curves);

        var md = new StringBuilder();
        md.AppendLine("## Speech denoising (denoise-train)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Data: {data.Description}. Validation: {validation.Count} files, mean input SNR {oracle.InputSnrDb:F2} dB.").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Oracle masks with the noisy phase: ideal ratio mask {oracle.OracleIrmImprovementDb:F2} dB, power ratio mask {oracle.OraclePowerImprovementDb:F2} dB SNR improvement.").AppendLine();
        md.Append(table).AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Best: **{best}** ({bestImprovement:F2} dB).{(ctx.Quick ? " (quick mode: tiny networks, a few batches — figures are not meaningful)" : string.Empty)}").AppendLine();
        md.AppendLine($"![parameters vs SNR]({Path.GetFileName(scatter)}) ![validation curves]({Path.GetFileName(curvePath)})");
        ctx.Results.WriteMarkdown("denoise", md.ToString());
        ctx.Out.WriteLine(md.ToString());

        void Add(string family, string name, JsonObject json, string loss, double seconds)
        {
            double improvement = json["snr_improvement_db"]!.GetValue<double>();
            long parameters = json["parameters"]!.GetValue<long>();
            points.Add((family, name, parameters, improvement));
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {parameters:N0} | {json["file_bytes"]!.GetValue<long>() / 1024.0:F0} KiB | {improvement:F2} | {json["si_sdr_improvement_db"]!.GetValue<double>():F2} | {loss} | {seconds:F0} |");
            if (improvement > bestImprovement)
            {
                bestImprovement = improvement;
                best = name;
            }
        }
    }

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
            string status = p.Metrics.TryGetValue(DenoisingTrainingProblem.SnrImprovementMetric, out double v)
                ? $"epoch {p.Epoch}/{p.Epochs} val {v:F2} dB"
                : $"epoch {p.Epoch}/{p.Epochs} loss {p.RunningLoss:F4}";
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

    private static JsonObject Score(TaskContext ctx, IMaskNetwork network, IReadOnlyList<DenoisingExample> validation, string path, CancellationToken ct)
    {
        DenoisingReport report = Evaluate(network, validation, ct);
        JsonObject json = DenoisingReports.ToJson(report);
        json["parameters"] = ((nn.Module)network).parameters().Sum(p => p.numel());
        json["file_bytes"] = new FileInfo(path).Length;
        json["checkpoint"] = Path.GetFullPath(path);
        ctx.Logger.LogInformation("{Architecture} ({Parameters} parameters): SNR improvement {Snr:F2} dB", network.Architecture, json["parameters"], report.SnrImprovementDb);
        return json;
    }
}
