using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Training;

/// <summary>
/// What <see cref="Trainer"/> needs to know about one learning problem: how to make batches, how to compute the
/// loss of a batch and how to validate. The trainer owns everything else (optimizer, schedule, seeds, dispose scopes,
/// checkpoints, early stopping, progress).
/// </summary>
/// <typeparam name="TBatch">One mini-batch, usually a record holding tensors.</typeparam>
public interface ITrainingProblem<TBatch>
{
    /// <summary>
    /// The training batches of one epoch. The trainer enumerates this lazily inside its per-batch dispose scope, so
    /// tensors created while producing a batch are freed together with that batch; an implementation must therefore not
    /// keep batch tensors alive across <c>MoveNext</c> calls.
    /// </summary>
    /// <param name="epoch">The 1-based epoch number.</param>
    /// <param name="rng">A generator seeded from <see cref="TrainerOptions.Seed"/> and the epoch, for shuffling.</param>
    /// <returns>The batches, in training order.</returns>
    IEnumerable<TBatch> TrainBatches(int epoch, Random rng);

    /// <summary>Computes the scalar training loss of <paramref name="batch"/>; the model is in train mode.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="batch">The batch.</param>
    /// <returns>A scalar tensor that requires grad.</returns>
    Tensor Loss(Module model, TBatch batch);

    /// <summary>The number of samples in <paramref name="batch"/> (for the samples/s figure).</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>The sample count.</returns>
    long CountSamples(TBatch batch);

    /// <summary>
    /// Validates the model; the trainer calls this with the model in eval mode and under <c>torch.no_grad()</c>.
    /// </summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="cancellationToken">Cancels a long validation.</param>
    /// <returns>Named metrics, e.g. <c>val_loss</c>, <c>val_acc</c>, <c>val_eer</c>.</returns>
    IReadOnlyDictionary<string, double> Validate(Module model, CancellationToken cancellationToken);

    /// <summary>
    /// Every metric name <see cref="Validate"/> may return, when known before training; null (the default) when not
    /// declared. With names declared, <see cref="Trainer.Fit{TBatch}"/> refuses a <see cref="TrainerOptions.MonitorMetric"/>
    /// that is neither among them nor <c>train_loss</c> before the first epoch (a misspelt metric would otherwise be found
    /// only after a whole epoch of training); without, after the first validation.
    /// </summary>
    IReadOnlyCollection<string>? MetricNames => null;
}
