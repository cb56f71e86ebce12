namespace Dls.Models.Training;

/// <summary>What a <see cref="TrainingProgress"/> report marks.</summary>
public enum TrainingProgressKind
{
    /// <summary>A training batch finished.</summary>
    Batch,

    /// <summary>An epoch finished (training and validation).</summary>
    Epoch,
}

/// <summary>One progress report of <see cref="Trainer.Fit{TBatch}"/>.</summary>
/// <param name="Kind">Batch or epoch.</param>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="Epochs">The last epoch that will run unless training stops early.</param>
/// <param name="Batch">Batches finished in this epoch.</param>
/// <param name="BatchesPerEpoch">Batches per epoch, known once an epoch has run (null during the first one).</param>
/// <param name="RunningLoss">Mean training loss of this epoch so far, as of the last read-back (NaN before the first).</param>
/// <param name="SamplesPerSecond">Training throughput of this epoch so far.</param>
/// <param name="LearningRate">The learning rate of this epoch.</param>
/// <param name="Metrics">Validation metrics (epoch reports only; empty for batch reports).</param>
public sealed record TrainingProgress(
    TrainingProgressKind Kind,
    int Epoch,
    int Epochs,
    int Batch,
    int? BatchesPerEpoch,
    double RunningLoss,
    double SamplesPerSecond,
    double LearningRate,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>The record of one finished epoch.</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches.</param>
/// <param name="Metrics">The validation metrics.</param>
/// <param name="SamplesPerSecond">Training throughput (training batches only, validation excluded).</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="TrainSeconds">Wall time of the training batches.</param>
/// <param name="ValidationSeconds">Wall time of validation.</param>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    IReadOnlyDictionary<string, double> Metrics,
    double SamplesPerSecond,
    double LearningRate,
    double TrainSeconds,
    double ValidationSeconds);

/// <summary>The outcome of <see cref="Trainer.Fit{TBatch}"/>.</summary>
/// <param name="History">One record per epoch run (including those of a resumed checkpoint).</param>
/// <param name="MonitorMetric">The metric that chose the best epoch.</param>
/// <param name="BestEpoch">The epoch with the best monitored metric (0 if none ran).</param>
/// <param name="BestMetric">The best value of the monitored metric (NaN if none ran).</param>
/// <param name="StoppedEarly">Whether early stopping ended training before <see cref="TrainerOptions.Epochs"/>.</param>
/// <param name="CheckpointPath">Where the best model was saved, or null.</param>
public sealed record TrainingResult(
    IReadOnlyList<EpochRecord> History,
    string MonitorMetric,
    int BestEpoch,
    double BestMetric,
    bool StoppedEarly,
    string? CheckpointPath)
{
    /// <summary>
    /// The weight average of <see cref="TrainerOptions.AverageFromEpoch"/> (the weights the model holds after Fit), or null
    /// when averaging was off or no epoch in its range ran.
    /// </summary>
    public AveragedWeights? Averaged { get; init; }
}

/// <summary>The validated weight average of a training run (<see cref="TrainerOptions.AverageFromEpoch"/>).</summary>
/// <param name="FirstEpoch">The first epoch averaged.</param>
/// <param name="LastEpoch">The last epoch averaged (the last one run).</param>
/// <param name="Metrics">The validation metrics of the averaged weights.</param>
public sealed record AveragedWeights(int FirstEpoch, int LastEpoch, IReadOnlyDictionary<string, double> Metrics);
