using System.Diagnostics;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Training;

/// <summary>
/// The one training loop of Dls (MNIST, denoising, Siamese speaker training): optimizer over
/// <c>model.parameters()</c>, learning-rate schedule, repeatable seeding, one dispose scope per batch, validation in
/// eval mode under <c>no_grad</c>, best-model checkpoint by a monitored metric, early stopping, resuming, and progress
/// through <see cref="IProgress{T}"/> and <see cref="ILogger"/>.
/// </summary>
/// <remarks>
/// The loop adds nothing per batch beyond what a hand-written loop does except an on-device add of the loss into a
/// running sum; the loss is read back (<c>item()</c>, a synchronisation) only every
/// <see cref="TrainerOptions.LossReadEveryBatches"/> batches and at the end of an epoch.
/// Fit seeds torch's global generator, so it is not meant to run concurrently with other seeded work.
/// </remarks>
public sealed class Trainer
{
    private const string TrainerMetadataKey = "trainer";
    private readonly ILogger logger;

    /// <summary>Creates a trainer.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <param name="logger">Receives per-epoch summaries (information) and running losses (debug); null logs nothing.</param>
    /// <exception cref="ArgumentException">The options are invalid (all problems are listed).</exception>
    public Trainer(TrainerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        Options = options;
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The options this trainer runs with.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Trains <paramref name="model"/> on <paramref name="problem"/>.</summary>
    /// <typeparam name="TBatch">The problem's batch type.</typeparam>
    /// <param name="model">
    /// The model; trained in place. Left in eval mode with the weights of the last epoch run, or with their average over the
    /// epochs from <see cref="TrainerOptions.AverageFromEpoch"/> on when that is set.
    /// </param>
    /// <param name="problem">Batches, loss and validation.</param>
    /// <param name="progress">Receives a report after every batch and every epoch; may be null.</param>
    /// <param name="cancellationToken">
    /// Stops training between batches (throws <see cref="OperationCanceledException"/>; the model is left in eval mode with
    /// the weights of the batches run so far, the last best checkpoint untouched).
    /// </param>
    /// <returns>The per-epoch history and the best epoch.</returns>
    /// <exception cref="InvalidOperationException">
    /// The problem yields no batch, validation lacks the monitored metric, the training loss or the monitored metric
    /// becomes NaN or infinite (the message names the epoch, and for the loss the batch; the checkpoint written before
    /// it is kept), or the problem breaks its contract: <see cref="ITrainingProblem{TBatch}.Loss"/> returns null, a
    /// tensor that is not a scalar or one that does not require grad, or <see cref="ITrainingProblem{TBatch}.TrainBatches"/>
    /// or <see cref="ITrainingProblem{TBatch}.Validate"/> returns null (the message names the problem type and the method).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// Resuming after <see cref="TrainerOptions.AverageFromEpoch"/> (the running average is not checkpointed), or from a
    /// checkpoint written with another monitored metric, optimizer, weight decay or momentum. Every refusal to resume
    /// comes before the checkpoint's weights are loaded: the model keeps its parameters.
    /// </exception>
    /// <exception cref="InvalidDataException">
    /// The checkpoint to resume from is malformed, or its optimizer state belongs to another save (the model keeps its
    /// parameters).
    /// </exception>
    public TrainingResult Fit<TBatch>(
        Module model,
        ITrainingProblem<TBatch> problem,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(problem);
        var o = Options;
        var parameters = model.parameters().ToArray();
        if (parameters.Length == 0)
            throw new ArgumentException("The model has no parameters to train (are its submodules registered fields?).", nameof(model));

        // Before any weights are loaded or any epoch is trained: a monitored metric the problem says it never returns.
        if (problem.MetricNames is { } names && o.MonitorMetric != "train_loss" && !names.Contains(o.MonitorMetric))
            throw new ArgumentException(
                $"The monitored metric '{o.MonitorMetric}' is not among the metrics {ProblemName(problem)} validates with " +
                $"[{string.Join(", ", names.Append("train_loss"))}].", nameof(problem));

        using var optimizer = CreateOptimizer(parameters);
        var history = new List<EpochRecord>();
        int firstEpoch = 1, bestEpoch = 0, sinceBest = 0;
        double bestMetric = double.NaN;
        int? batchesPerEpoch = null;

        if (o.ResumeFrom is { } resume)
        {
            var state = Resume(model, optimizer, resume);
            history.AddRange(state.History);
            firstEpoch = state.Epoch + 1;
            bestEpoch = state.BestEpoch;
            bestMetric = state.BestMetric;
            sinceBest = state.SinceBest;
            logger.LogInformation("Resuming from {Path} after epoch {Epoch} (best {Metric} = {Best} at epoch {BestEpoch}).",
                resume, state.Epoch, o.MonitorMetric, bestMetric, bestEpoch);
        }

        // Sum of the parameters at the end of each averaged epoch (one detached copy per parameter, freed at the end of Fit).
        using var averaging = new WeightSum(parameters);

        bool stoppedEarly = false;
        for (int epoch = firstEpoch; epoch <= o.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int epochSeed = EpochSeed(o.Seed, epoch);
            torch.manual_seed(epochSeed);
            var rng = new Random(epochSeed);
            double learningRate = o.LearningRateAt(epoch);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = learningRate;

            model.train();
            (double Loss, long Samples, int Batches, double Seconds) run;
            try
            {
                run = RunEpoch(model, problem, optimizer, parameters, epoch, rng, learningRate, batchesPerEpoch, progress, cancellationToken);
            }
            catch
            {
                model.eval();   // cancelled or failed mid-epoch: never hand the model back in training mode (dropout on)
                throw;
            }

            var (trainLoss, samples, batches, trainSeconds) = run;
            batchesPerEpoch = batches;
            double samplesPerSecond = samples / Math.Max(trainSeconds, 1e-9);
            if (o.AverageFromEpoch is { } averageFrom && epoch >= averageFrom)
                averaging.Add(epoch);

            var validationWatch = Stopwatch.StartNew();
            var metrics = Validate(model, problem, $"after epoch {epoch}", cancellationToken);
            metrics.TryAdd("train_loss", trainLoss);
            validationWatch.Stop();

            if (!metrics.TryGetValue(o.MonitorMetric, out double monitored))
                throw new InvalidOperationException(
                    $"The monitored metric '{o.MonitorMetric}' is not among the validation metrics [{string.Join(", ", metrics.Keys)}].");

            // A non-finite metric cannot rank epochs (NaN never compares better): counted as "no improvement", a run whose
            // validation always fails would end with no best epoch and no checkpoint, silently. Thrown before this epoch can
            // write a checkpoint.
            if (!double.IsFinite(monitored))
                throw new InvalidOperationException(
                    $"Epoch {epoch}: the monitored metric '{o.MonitorMetric}' is {monitored.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected a finite value. Training stopped; " +
                    $"{CheckpointStatus(bestEpoch, bestMetric)}. Check what {ProblemName(problem)}.Validate computes " +
                    "(a mean over an empty validation set, or a model whose outputs are not finite).");

            var record = new EpochRecord(epoch, trainLoss, metrics, samplesPerSecond, learningRate, trainSeconds, validationWatch.Elapsed.TotalSeconds);
            history.Add(record);

            // bestMetric is NaN after resuming from a checkpoint whose best metric is JSON null (no finite value recorded).
            bool improved = bestEpoch == 0 || double.IsNaN(bestMetric) || (o.HigherIsBetter ? monitored > bestMetric : monitored < bestMetric);
            if (improved)
            {
                bestEpoch = epoch;
                bestMetric = monitored;
                sinceBest = 0;
                if (o.CheckpointPath is { } path)
                    SaveCheckpoint(path, model, optimizer, history, epoch, bestEpoch, bestMetric, sinceBest);
            }
            else
            {
                sinceBest++;
            }

            logger.LogInformation(
                "Epoch {Epoch}/{Epochs}: train_loss {TrainLoss:F4}, {Metrics}, lr {LearningRate:G3}, {SamplesPerSecond:F0} samples/s{Best}",
                epoch, o.Epochs, trainLoss, string.Join(", ", metrics.Where(m => m.Key != "train_loss").Select(m => $"{m.Key} {m.Value:F4}")),
                learningRate, samplesPerSecond, improved ? " (best)" : "");
            progress?.Report(new TrainingProgress(TrainingProgressKind.Epoch, epoch, o.Epochs, batches, batchesPerEpoch,
                trainLoss, samplesPerSecond, learningRate, metrics));

            if (o.EarlyStoppingPatience is { } patience && sinceBest >= patience && epoch < o.Epochs)
            {
                stoppedEarly = true;
                logger.LogInformation("Early stopping after epoch {Epoch}: no improvement of {Metric} for {Patience} epochs.",
                    epoch, o.MonitorMetric, patience);
                break;
            }
        }

        AveragedWeights? averaged = null;
        if (averaging.Count > 0)
        {
            averaging.CopyMeanTo(parameters);
            var metrics = Validate(model, problem, "for the averaged weights", cancellationToken);
            averaged = new AveragedWeights(averaging.FirstEpoch, averaging.LastEpoch, metrics);
            logger.LogInformation("Weights averaged over epochs {First}-{Last}: {Metrics}", averaging.FirstEpoch, averaging.LastEpoch,
                string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value:F4}")));
        }

        model.eval();
        return new TrainingResult(history, o.MonitorMetric, bestEpoch, bestMetric, stoppedEarly, bestEpoch > 0 ? o.CheckpointPath : null) { Averaged = averaged };
    }

    /// <summary>The problem's validation metrics, in eval mode under <c>no_grad</c>; the model is left in eval mode.</summary>
    /// <param name="model">The model; left in eval mode.</param>
    /// <param name="problem">The problem whose metrics these are.</param>
    /// <param name="when">Which validation this is, for the message when the problem returns null ("after epoch 3").</param>
    /// <param name="cancellationToken">Passed to the problem.</param>
    private static Dictionary<string, double> Validate<TBatch>(Module model, ITrainingProblem<TBatch> problem, string when, CancellationToken cancellationToken)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        model.eval();
        using (torch.no_grad())
        using (torch.NewDisposeScope())
        {
            var result = problem.Validate(model, cancellationToken)
                ?? throw new InvalidOperationException($"{ProblemName(problem)}.Validate returned null {when}; expected a dictionary of metrics.");
            foreach (var (key, value) in result)
            {
                if (problem.MetricNames is { } names && !names.Contains(key))
                    throw new InvalidOperationException(
                        $"{ProblemName(problem)}.Validate returned the metric '{key}' {when}, which its MetricNames [{string.Join(", ", names)}] do not declare.");
                metrics[key] = value;
            }
        }
        return metrics;
    }

    /// <summary>The problem's type name, for messages about a broken <see cref="ITrainingProblem{TBatch}"/> contract.</summary>
    private static string ProblemName<TBatch>(ITrainingProblem<TBatch> problem) => problem.GetType().Name;

    /// <summary>
    /// Refuses a loss <c>backward()</c> cannot start from, which would otherwise fail natively ("grad can be implicitly
    /// created only for scalar outputs", "element 0 of tensors does not require grad") or with a NullReferenceException.
    /// <c>dim()</c> and <c>requires_grad</c> read tensor metadata only, so the check adds no device synchronisation.
    /// </summary>
    private static void ThrowIfNotTrainableLoss<TBatch>(ITrainingProblem<TBatch> problem, Tensor? loss)
    {
        const string expected = "expected a scalar tensor that requires grad";
        if (loss is null)
            throw new InvalidOperationException($"{ProblemName(problem)}.Loss returned null; {expected}.");
        if (loss.dim() != 0)
            throw new InvalidOperationException(
                $"{ProblemName(problem)}.Loss returned a tensor of shape [{string.Join("×", loss.shape)}]; expected a scalar tensor (shape []) " +
                "that requires grad: reduce the per-sample losses (mean or sum).");
        if (!loss.requires_grad)
            throw new InvalidOperationException(
                $"{ProblemName(problem)}.Loss returned a tensor that does not require grad; {expected} " +
                "(computed from the model's parameters: not detached, not under no_grad, not rebuilt from item()).");
    }

    /// <summary>What a run stopped by a non-finite figure leaves on disk, for its message.</summary>
    private string CheckpointStatus(int bestEpoch, double bestMetric) => Options.CheckpointPath switch
    {
        null => "no checkpoint was written (CheckpointPath is not set)",
        { } path when bestEpoch == 0 => $"no checkpoint was written to '{path}' (no earlier epoch had a finite {Options.MonitorMetric})",
        { } path => $"the checkpoint '{path}' is left as it was (epoch {bestEpoch}, {Options.MonitorMetric} {bestMetric})",
    };

    /// <summary>A running sum of parameter snapshots, for the equal-weight average of <see cref="TrainerOptions.AverageFromEpoch"/>.</summary>
    private sealed class WeightSum(TorchSharp.Modules.Parameter[] parameters) : IDisposable
    {
        private Tensor[]? sums;

        public int Count { get; private set; }
        public int FirstEpoch { get; private set; }
        public int LastEpoch { get; private set; }

        /// <summary>Adds the parameters' current values as the snapshot of <paramref name="epoch"/>.</summary>
        public void Add(int epoch)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            if (sums is null)
            {
                sums = parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
                FirstEpoch = epoch;
            }
            else
            {
                for (int i = 0; i < sums.Length; i++)
                    sums[i].add_(parameters[i], Scalars.One);
            }
            Count++;
            LastEpoch = epoch;
        }

        /// <summary>Overwrites <paramref name="target"/> (the same parameters, in order) with the mean of the snapshots.</summary>
        public void CopyMeanTo(TorchSharp.Modules.Parameter[] target)
        {
            if (sums is null) throw new InvalidOperationException("No snapshot was added.");
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            // Held in a local and disposed explicitly: a temporary Scalar could be finalized while libtorch reads it.
            using var inverseCount = (1.0 / Count).ToScalar();
            for (int i = 0; i < sums.Length; i++)
                target[i].copy_(sums[i].mul(inverseCount));
        }

        public void Dispose()
        {
            foreach (var s in sums ?? []) s.Dispose();
        }
    }

    private (double Loss, long Samples, int Batches, double Seconds) RunEpoch<TBatch>(
        Module model,
        ITrainingProblem<TBatch> problem,
        TorchSharp.Modules.OptimizerHelper optimizer,
        TorchSharp.Modules.Parameter[] parameters,
        int epoch,
        Random rng,
        double learningRate,
        int? batchesPerEpoch,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        var o = Options;
        // Float64 running sum kept on the tensor side: adding into it costs no synchronisation.
        using var lossSum = torch.zeros(Array.Empty<long>(), ScalarType.Float64);
        long samples = 0;
        int batches = 0, lastRead = 0;
        double running = double.NaN;
        var watch = Stopwatch.StartNew();
        var batchSource = problem.TrainBatches(epoch, rng)
            ?? throw new InvalidOperationException($"{ProblemName(problem)}.TrainBatches returned null for epoch {epoch}; expected a sequence of batches.");
        using (var batchEnumerator = batchSource.GetEnumerator())
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // One scope per batch, opened before MoveNext so the batch's own tensors die with it.
                using var scope = torch.NewDisposeScope();
                if (!batchEnumerator.MoveNext())
                    break;
                var batch = batchEnumerator.Current;
                optimizer.zero_grad();
                var loss = problem.Loss(model, batch);
                ThrowIfNotTrainableLoss(problem, loss);
                loss.backward();
                if (o.GradientClipNorm is { } clip)
                    torch.nn.utils.clip_grad_norm_(parameters, clip);
                optimizer.step();
                lossSum.add_(loss.detach(), Scalars.One);
                samples += problem.CountSamples(batch);
                batches++;
                if (o.LossReadEveryBatches > 0 && batches % o.LossReadEveryBatches == 0)
                {
                    double sum = lossSum.item<double>();
                    ThrowIfNotFinite(sum, epoch, batches, lastRead);
                    lastRead = batches;
                    running = sum / batches;
                    logger.LogDebug("Epoch {Epoch} batch {Batch}: running loss {Loss:F4}", epoch, batches, running);
                }
                progress?.Report(new TrainingProgress(TrainingProgressKind.Batch, epoch, o.Epochs, batches, batchesPerEpoch,
                    running, samples / Math.Max(watch.Elapsed.TotalSeconds, 1e-9), learningRate, EmptyMetrics));
            }
        }
        if (batches == 0)
            throw new InvalidOperationException($"{ProblemName(problem)}.TrainBatches returned no batches for epoch {epoch}; expected at least one.");
        double lossTotal = lossSum.item<double>();
        ThrowIfNotFinite(lossTotal, epoch, batches, lastRead);
        double meanLoss = lossTotal / batches;
        watch.Stop();
        return (meanLoss, samples, batches, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Stops training once the running loss sum is NaN or infinite. It is checked only where it is read anyway (every
    /// <see cref="TrainerOptions.LossReadEveryBatches"/> batches and at the end of the epoch), so the check costs no extra
    /// synchronisation; the culprit is then one of the batches since the previous read. Throwing before validation means no
    /// checkpoint is written from the broken weights.
    /// </summary>
    private void ThrowIfNotFinite(double lossSum, int epoch, int batch, int lastRead)
    {
        if (double.IsFinite(lossSum))
            return;
        string which = batch - lastRead > 1 ? $" (the loss is read every {Options.LossReadEveryBatches} batches; the first non-finite batch is one of {lastRead + 1}–{batch})" : "";
        throw new InvalidOperationException(
            $"Epoch {epoch} batch {batch}: the loss is {lossSum}{which}; expected a finite loss. Training stopped (the model's weights are likely " +
            $"non-finite now); {(Options.CheckpointPath is { } path ? $"the checkpoint '{path}' is left as it was (the best earlier epoch, if any)" : "no checkpoint was written")}. " +
            $"Lower {nameof(TrainerOptions.LearningRate)} (now {Options.LearningRate}), set {nameof(TrainerOptions.GradientClipNorm)}, or check the data for NaN/Inf.");
    }

    private static readonly IReadOnlyDictionary<string, double> EmptyMetrics = new Dictionary<string, double>();

    private TorchSharp.Modules.OptimizerHelper CreateOptimizer(TorchSharp.Modules.Parameter[] parameters) => Options.Optimizer switch
    {
        OptimizerKind.Sgd => torch.optim.SGD(parameters, Options.LearningRate, momentum: Options.Momentum, weight_decay: Options.WeightDecay),
        _ => new FusedAdam(parameters, Options.LearningRate, weightDecay: Options.WeightDecay),
    };

    /// <summary>
    /// Epoch seeds depend only on (seed, epoch), never on what ran before, so a resumed run draws the same shuffles and
    /// dropout masks as an uninterrupted one. The multiplier is a large prime to spread neighbouring seeds apart.
    /// </summary>
    private static int EpochSeed(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch);

    /// <summary>The path of the optimizer state written next to a trainer checkpoint.</summary>
    /// <param name="checkpointPath">The checkpoint's weights path.</param>
    /// <returns><paramref name="checkpointPath"/> + <c>.optimizer</c>.</returns>
    public static string OptimizerStatePath(string checkpointPath) => checkpointPath + ".optimizer";

    private void SaveCheckpoint(string path, Module model, TorchSharp.Modules.OptimizerHelper optimizer, List<EpochRecord> history,
        int epoch, int bestEpoch, double bestMetric, int sinceBest)
    {
        var optimizerBytes = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerBytes, System.Text.Encoding.UTF8, leaveOpen: true))
            optimizer.save_state_dict(writer);
        byte[] optimizerState = optimizerBytes.ToArray();
        var trainer = new JsonObject
        {
            ["epoch"] = epoch,
            ["best_epoch"] = bestEpoch,
            ["best_metric"] = JsonNumberOrNull(bestMetric),
            ["monitor_metric"] = Options.MonitorMetric,
            ["higher_is_better"] = Options.HigherIsBetter,
            ["epochs_since_best"] = sinceBest,
            ["optimizer"] = Options.Optimizer.ToString(),
            // Ties the optimizer-state file to this checkpoint: resuming refuses a state file saved with other weights.
            [OptimizerStateSha256Key] = Sha256(optimizerState),
            ["history"] = new JsonArray(history.Select(HistoryToJson).ToArray<JsonNode?>()),
        };
        var metadata = new JsonObject
        {
            ["epoch"] = epoch,
            [Options.MonitorMetric] = JsonNumberOrNull(bestMetric),
            [TrainerMetadataKey] = trainer,
        };
        // One write of the three files: all go to temporary names, then are renamed together (optimizer state, weights,
        // sidecar), so a failure leaves the previous best checkpoint and its optimizer state whole.
        Checkpoint.Save(path, model, (model as IDescribedModel)?.Describe(), metadata, [(OptimizerStatePath(path), optimizerState)]);
    }

    private const string OptimizerStateSha256Key = "optimizer_state_sha256";

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    private static JsonNode? JsonNumberOrNull(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static JsonObject HistoryToJson(EpochRecord r)
    {
        var metrics = new JsonObject();
        foreach (var (key, value) in r.Metrics)
            metrics[key] = JsonNumberOrNull(value);
        return new JsonObject
        {
            ["epoch"] = r.Epoch,
            ["train_loss"] = JsonNumberOrNull(r.TrainLoss),
            ["metrics"] = metrics,
            ["samples_per_s"] = JsonNumberOrNull(r.SamplesPerSecond),
            ["learning_rate"] = r.LearningRate,
            ["train_s"] = r.TrainSeconds,
            ["validation_s"] = r.ValidationSeconds,
        };
    }

    private static JsonNode Need(JsonObject json, string key, string path)
        => json[key] ?? throw new InvalidDataException($"Checkpoint '{path}': expected a '{key}' field in the trainer metadata, found none.");

    /// <summary>
    /// Loading an optimizer state also loads its hyper-parameters (weight decay, momentum), which would silently replace the
    /// ones of these options; a resumed run must ask for the same ones. (The learning rate is set anew every epoch.)
    /// </summary>
    private void CheckLoadedOptimizerOptions(TorchSharp.Modules.OptimizerHelper optimizer, string optimizerPath)
    {
        var differences = new List<string>();
        foreach (var group in optimizer.ParamGroups.OfType<TorchSharp.Modules.ParamGroup>())
        {
            (double? decay, double? momentum) = group.Options switch
            {
                TorchSharp.Modules.SGD.Options sgd => (sgd.weight_decay, sgd.momentum),
                TorchSharp.Modules.Adam.Options adam => (adam.weight_decay, (double?)null),
                _ => (null, null),
            };
            if (decay is { } d && d != Options.WeightDecay)
                differences.Add($"{nameof(TrainerOptions.WeightDecay)}: saved {d}, requested {Options.WeightDecay}");
            if (momentum is { } m && m != Options.Momentum)
                differences.Add($"{nameof(TrainerOptions.Momentum)}: saved {m}, requested {Options.Momentum}");
        }
        if (differences.Count > 0)
            throw new ArgumentException(
                $"Cannot resume from the optimizer state '{optimizerPath}': it was saved with other hyper-parameters ({string.Join("; ", differences.Distinct())}); " +
                "resume with the saved values, or start afresh.");
    }

    private sealed record ResumeState(int Epoch, int BestEpoch, double BestMetric, int SinceBest, List<EpochRecord> History);

    /// <summary>
    /// Reads a trainer checkpoint into the model and this Fit's optimizer. Every refusal (monitored metric, optimizer,
    /// averaging, optimizer-state hash or hyper-parameters, malformed metadata) comes before the checkpoint's weights are
    /// loaded, so a refused resume leaves the caller's model as it was. The optimizer state is loaded first because its
    /// hyper-parameters can only be read from it; the optimizer is this Fit's own (disposed when Fit ends), so a refusal
    /// after loading it changes nothing the caller holds.
    /// </summary>
    private ResumeState Resume(Module model, TorchSharp.Modules.OptimizerHelper optimizer, string path)
    {
        var info = Checkpoint.ReadInfo(path);
        if (info.Metadata[TrainerMetadataKey] is not JsonObject trainer)
            throw new InvalidDataException($"Checkpoint '{path}' was not written by the trainer: its metadata has no '{TrainerMetadataKey}' object.");
        ResumeState state;
        try
        {
            string? monitored = trainer["monitor_metric"]?.GetValue<string>();
            if (monitored != Options.MonitorMetric)
                throw new ArgumentException($"Cannot resume from '{path}': it monitored '{monitored}', these options monitor '{Options.MonitorMetric}'.");
            string? savedOptimizer = trainer["optimizer"]?.GetValue<string>();
            if (savedOptimizer is not null && savedOptimizer != Options.Optimizer.ToString())
                throw new ArgumentException(
                    $"Cannot resume from '{path}': it was trained with optimizer {savedOptimizer}, these options request {nameof(TrainerOptions.Optimizer)} = {Options.Optimizer}.");
            int epoch = Need(trainer, "epoch", path).GetValue<int>();
            if (Options.AverageFromEpoch is { } from && epoch >= from)
                throw new ArgumentException($"Cannot resume from '{path}' after epoch {epoch} with {nameof(TrainerOptions.AverageFromEpoch)}={from}: the weight average of the epochs already run is not in the checkpoint.");
            int bestEpoch = Need(trainer, "best_epoch", path).GetValue<int>();
            double bestMetric = trainer["best_metric"]?.GetValue<double>() ?? double.NaN;
            int sinceBest = trainer["epochs_since_best"]?.GetValue<int>() ?? 0;
            var history = new List<EpochRecord>();
            foreach (var node in trainer["history"]?.AsArray() ?? [])
            {
                var h = (node ?? throw new InvalidDataException($"Checkpoint '{path}': expected history entries, found null.")).AsObject();
                var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (key, value) in Need(h, "metrics", path).AsObject())
                    metrics[key] = value?.GetValue<double>() ?? double.NaN;
                history.Add(new EpochRecord(
                    Need(h, "epoch", path).GetValue<int>(),
                    h["train_loss"]?.GetValue<double>() ?? double.NaN,
                    metrics,
                    h["samples_per_s"]?.GetValue<double>() ?? double.NaN,
                    Need(h, "learning_rate", path).GetValue<double>(),
                    Need(h, "train_s", path).GetValue<double>(),
                    Need(h, "validation_s", path).GetValue<double>()));
            }
            string optimizerPath = OptimizerStatePath(path);
            if (File.Exists(optimizerPath))
            {
                byte[] optimizerState = File.ReadAllBytes(optimizerPath);
                // Checkpoints of earlier versions carry no hash; those states are taken as they are.
                if (trainer[OptimizerStateSha256Key]?.GetValue<string>() is string expected && Sha256(optimizerState) != expected)
                    throw new InvalidDataException(
                        $"Cannot resume from '{path}': the optimizer state '{optimizerPath}' does not belong to it (expected SHA-256 {expected}, " +
                        $"found {Sha256(optimizerState)} over {optimizerState.Length} bytes); it was saved with other weights. Delete it to resume with a fresh optimizer.");
                using var stream = new MemoryStream(optimizerState, writable: false);
                using var reader = new BinaryReader(stream);
                optimizer.load_state_dict(reader);
                CheckLoadedOptimizerOptions(optimizer, optimizerPath);
            }
            else
            {
                logger.LogWarning("No optimizer state at {Path}; the optimizer restarts from scratch.", optimizerPath);
            }
            state = new ResumeState(epoch, bestEpoch, bestMetric, sinceBest, history);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or EndOfStreamException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' has malformed trainer metadata or optimizer state: {e.Message}", e);
        }
        // Last, once nothing can refuse: from the sidecar already read and checked, not a second read of the file.
        Checkpoint.LoadInto(model, path, info);
        return state;
    }
}
