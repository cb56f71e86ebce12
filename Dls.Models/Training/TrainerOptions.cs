namespace Dls.Models.Training;

/// <summary>The optimizer the trainer builds over <c>model.parameters()</c>.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma and Ba, 2015) with betas (0.9, 0.999).</summary>
    Adam,

    /// <summary>Stochastic gradient descent with (heavy-ball) momentum <see cref="TrainerOptions.Momentum"/>.</summary>
    Sgd,
}

/// <summary>How the learning rate changes from epoch to epoch.</summary>
public enum LearningRateSchedule
{
    /// <summary>The learning rate stays at <see cref="TrainerOptions.LearningRate"/>.</summary>
    Constant,

    /// <summary>
    /// Cosine annealing (Loshchilov and Hutter, 2017, without restarts) from <see cref="TrainerOptions.LearningRate"/>
    /// in the first epoch towards <see cref="TrainerOptions.MinLearningRate"/> after the last one.
    /// </summary>
    Cosine,

    /// <summary>Multiply by <see cref="TrainerOptions.StepGamma"/> every <see cref="TrainerOptions.StepEpochs"/> epochs.</summary>
    Step,
}

/// <summary>
/// Options of <see cref="Trainer"/>. Immutable; <see cref="Validate"/> reports every problem at once.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Number of epochs to train (the last epoch number, when resuming). Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Initial learning rate. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The optimizer. Default <see cref="OptimizerKind.Adam"/>.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Momentum for <see cref="OptimizerKind.Sgd"/> (ignored by Adam). Default 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay added by the optimizer. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>The learning-rate schedule. Default <see cref="LearningRateSchedule.Constant"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>The floor of the cosine schedule. Default 0.</summary>
    public double MinLearningRate { get; init; }

    /// <summary>Epochs between two decays of the step schedule. Default 10.</summary>
    public int StepEpochs { get; init; } = 10;

    /// <summary>Decay factor of the step schedule. Default 0.1.</summary>
    public double StepGamma { get; init; } = 0.1;

    /// <summary>
    /// Seed of torch's generator (initialization is the caller's, dropout is the trainer's) and of the batch shuffling.
    /// Each epoch is seeded from (Seed, epoch), so a resumed run shuffles like an uninterrupted one. Default 0. The model's
    /// initial weights are drawn when it is constructed, from whatever state torch's generator is in then, which differs
    /// from process to process: call <c>torch.manual_seed</c> before constructing the model for a run that repeats.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>
    /// The validation metric that selects the best epoch (a key of <see cref="ITrainingProblem{TBatch}.Validate"/>'s
    /// result, or <c>train_loss</c>). Default <c>val_loss</c>.
    /// </summary>
    public string MonitorMetric { get; init; } = "val_loss";

    /// <summary>Whether a larger <see cref="MonitorMetric"/> is better (accuracy) or a smaller one (loss, EER). Default false.</summary>
    public bool HigherIsBetter { get; init; }

    /// <summary>Stop after this many epochs without improvement of the monitored metric; null trains all epochs.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Where the best model is saved as a checkpoint (see <see cref="Checkpoints.Checkpoint"/>); null saves nothing.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// A checkpoint written by this trainer to continue from: its weights are loaded into the model, its optimizer state
    /// (when present) into the optimizer, and training resumes after its epoch. The monitored metric, the optimizer and its
    /// weight decay and momentum must be those the checkpoint was written with. Null starts afresh.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Clip the global gradient L2 norm to this value before each step; null does not clip.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>
    /// Average the weights at the end of every epoch from this one to the last (stochastic weight averaging, Izmailov et al.
    /// 2018, taken once per epoch on the trainer's own schedule); null (default) averages nothing. When set,
    /// <see cref="Trainer.Fit{TBatch}"/> ends by loading the average into the model's parameters (buffers keep their
    /// last-epoch values; models with batch-norm statistics would need them recomputed) and validating it
    /// (<see cref="TrainingResult.Averaged"/>). The best-epoch checkpoint is still written as usual.
    /// </summary>
    public int? AverageFromEpoch { get; init; }

    /// <summary>
    /// Read the running loss back from the tensor (one <c>item()</c>, a device sync) every this many batches, for
    /// progress and logging. Default 20; 0 reads it only at the end of each epoch.
    /// </summary>
    public int LossReadEveryBatches { get; init; } = 20;

    /// <summary>Every problem with these options, one message per problem naming the field; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Epochs < 1) errors.Add($"{nameof(Epochs)} must be at least 1, got {Epochs}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) errors.Add($"{nameof(LearningRate)} must be a positive finite number, got {LearningRate}.");
        if (!Enum.IsDefined(Optimizer)) errors.Add($"{nameof(Optimizer)} must be Adam or Sgd, got {(int)Optimizer}.");
        if (!(Momentum >= 0 && Momentum < 1)) errors.Add($"{nameof(Momentum)} must be in [0, 1), got {Momentum}.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) errors.Add($"{nameof(WeightDecay)} must be a finite number >= 0, got {WeightDecay}.");
        if (!Enum.IsDefined(Schedule)) errors.Add($"{nameof(Schedule)} must be Constant, Cosine or Step, got {(int)Schedule}.");
        if (!(MinLearningRate >= 0 && MinLearningRate <= LearningRate)) errors.Add($"{nameof(MinLearningRate)} must be in [0, {nameof(LearningRate)}={LearningRate}], got {MinLearningRate}.");
        if (StepEpochs < 1) errors.Add($"{nameof(StepEpochs)} must be at least 1, got {StepEpochs}.");
        if (!(StepGamma > 0 && StepGamma <= 1)) errors.Add($"{nameof(StepGamma)} must be in (0, 1], got {StepGamma}.");
        if (string.IsNullOrWhiteSpace(MonitorMetric)) errors.Add($"{nameof(MonitorMetric)} must name a metric, got '{MonitorMetric}'.");
        if (EarlyStoppingPatience is < 1) errors.Add($"{nameof(EarlyStoppingPatience)} must be at least 1 (or null to disable), got {EarlyStoppingPatience}.");
        if (CheckpointPath is not null && string.IsNullOrWhiteSpace(CheckpointPath)) errors.Add($"{nameof(CheckpointPath)} must be null or a path, got '{CheckpointPath}'.");
        if (ResumeFrom is not null && string.IsNullOrWhiteSpace(ResumeFrom)) errors.Add($"{nameof(ResumeFrom)} must be null or a path, got '{ResumeFrom}'.");
        if (GradientClipNorm is { } clip && !(clip > 0)) errors.Add($"{nameof(GradientClipNorm)} must be positive (or null), got {clip}.");
        if (AverageFromEpoch is { } from && !(from >= 1 && from <= Epochs))
            errors.Add($"{nameof(AverageFromEpoch)} must be in [1, {nameof(Epochs)}={Epochs}] (or null to disable), got {from}.");
        if (LossReadEveryBatches < 0) errors.Add($"{nameof(LossReadEveryBatches)} must be >= 0, got {LossReadEveryBatches}.");
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when the options are invalid.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid trainer options: " + string.Join(" ", errors));
    }

    /// <summary>The learning rate of a 1-based epoch under <see cref="Schedule"/>.</summary>
    /// <param name="epoch">
    /// The 1-based epoch; at most <see cref="Epochs"/> under <see cref="LearningRateSchedule.Cosine"/> (the curve is
    /// defined over the run's epochs only: past them it would rise again).
    /// </param>
    /// <returns>The learning rate to use throughout that epoch.</returns>
    /// <exception cref="ArgumentException">The options are invalid (all problems are listed, as by <see cref="ThrowIfInvalid"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is outside the schedule.</exception>
    public double LearningRateAt(int epoch)
    {
        // Invalid options do not fail in the formulas themselves: StepEpochs 0 divides by zero, Epochs 0 gives NaN, and
        // MinLearningRate above LearningRate gives a rising curve. Validating costs a small list once per epoch.
        ThrowIfInvalid();
        if (Schedule == LearningRateSchedule.Cosine && (epoch < 1 || epoch > Epochs))
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch,
                $"Expected an epoch in [1, {nameof(Epochs)}={Epochs}] for the cosine schedule, found {epoch}.");
        if (epoch < 1)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"Expected an epoch >= 1 (epochs are numbered from 1), found {epoch}.");
        return Schedule switch
        {
            LearningRateSchedule.Cosine => MinLearningRate + 0.5 * (LearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * (epoch - 1) / Epochs)),
            LearningRateSchedule.Step => LearningRate * Math.Pow(StepGamma, (epoch - 1) / StepEpochs),
            _ => LearningRate,
        };
    }
}
