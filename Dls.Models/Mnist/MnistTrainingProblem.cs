using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Mnist;

/// <summary>One MNIST mini-batch.</summary>
/// <param name="Images">(batch, 784) pixels in [0, 1].</param>
/// <param name="Labels">(batch) class indices, int64.</param>
public sealed record MnistBatch(Tensor Images, Tensor Labels);

/// <summary>
/// MNIST classification for <see cref="Trainer"/>: shuffled mini-batches of the training split, cross-entropy loss,
/// validation loss and accuracy (<c>val_loss</c>, <c>val_acc</c>) on the test split. Holds both splits as tensors;
/// dispose it when done.
/// </summary>
public sealed class MnistTrainingProblem : ITrainingProblem<MnistBatch>, IDisposable
{
    private readonly Tensor trainImages, trainLabels, testImages, testLabels;
    private readonly int trainCount;

    /// <summary>Creates the problem.</summary>
    /// <param name="train">The training split.</param>
    /// <param name="test">The validation/test split.</param>
    /// <param name="batchSize">Training batch size (the last batch of an epoch may be smaller). Default 128.</param>
    public MnistTrainingProblem(MnistSplit train, MnistSplit test, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (train.Features != test.Features)
            throw new ArgumentException($"Training images have {train.Features} pixels, test images {test.Features}; expected equal sizes.", nameof(test));
        BatchSize = batchSize;
        trainCount = train.Count;
        (trainImages, trainLabels) = MnistTensors.From(train);
        (testImages, testLabels) = MnistTensors.From(test);
        // Held for the problem's lifetime: out of any scope the caller has open (disposed by Dispose).
        foreach (var t in new[] { trainImages, trainLabels, testImages, testLabels })
            t.DetachFromDisposeScope();
    }

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; }

    /// <summary>Training batches per epoch.</summary>
    public int BatchesPerEpoch => (trainCount + BatchSize - 1) / BatchSize;

    /// <inheritdoc />
    public IEnumerable<MnistBatch> TrainBatches(int epoch, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var order = new long[trainCount];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        rng.Shuffle(order);
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            int count = Math.Min(BatchSize, order.Length - start);
            using var index = torch.tensor(order.AsSpan(start, count).ToArray());
            yield return new MnistBatch(trainImages.index_select(0, index), trainLabels.index_select(0, index));
        }
    }

    /// <inheritdoc />
    public Tensor Loss(Module model, MnistBatch batch)
    {
        using var logits = AsClassifier(model).call(batch.Images);
        return functional.cross_entropy(logits, batch.Labels);
    }

    /// <inheritdoc />
    public long CountSamples(MnistBatch batch) => batch.Labels.shape[0];

    /// <inheritdoc />
    public IReadOnlyCollection<string> MetricNames { get; } = ["val_loss", "val_acc"];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Validate(Module model, CancellationToken cancellationToken)
    {
        var (loss, accuracy) = MnistEvaluation.Evaluate(AsClassifier(model), testImages, testLabels, cancellationToken: cancellationToken);
        return new Dictionary<string, double> { ["val_loss"] = loss, ["val_acc"] = accuracy };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        trainImages.Dispose();
        trainLabels.Dispose();
        testImages.Dispose();
        testLabels.Dispose();
    }

    private static Module<Tensor, Tensor> AsClassifier(Module model) => model as Module<Tensor, Tensor>
        ?? throw new ArgumentException($"Expected a Module<Tensor, Tensor> classifier, found {model.GetType().Name}.", nameof(model));
}

/// <summary>Conversions between <see cref="MnistSplit"/> and tensors.</summary>
public static class MnistTensors
{
    /// <summary>Images as (count, rows·columns) float32 in [0, 1] and labels as int64.</summary>
    /// <param name="split">The split.</param>
    /// <returns>New tensors (the caller disposes them).</returns>
    public static (Tensor Images, Tensor Labels) From(MnistSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        using var scope = torch.NewDisposeScope();
        using var bytes = torch.tensor(split.Pixels, [split.Count, split.Features]);
        var images = bytes.to(ScalarType.Float32).div_(255f);
        var labels = torch.tensor(split.Labels, [split.Count]).to(ScalarType.Int64);
        return (images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }
}

/// <summary>Loss and accuracy of a classifier.</summary>
public static class MnistEvaluation
{
    /// <summary>Mean cross-entropy and accuracy over a labelled set, in eval mode under no_grad, in chunks.</summary>
    /// <param name="model">A classifier (batch, features) → (batch, classes); its train/eval mode is restored afterwards.</param>
    /// <param name="images">(count, features).</param>
    /// <param name="labels">(count) int64.</param>
    /// <param name="chunk">Rows per forward pass. Default 1000.</param>
    /// <param name="cancellationToken">Cancels between chunks.</param>
    /// <returns>Mean loss and accuracy in [0, 1].</returns>
    /// <exception cref="ArgumentException">
    /// There are no images; the labels are not a (count) int64 tensor; or a label is outside [0, classes) of the model's
    /// output (the first such label and its index are named).
    /// </exception>
    public static (double Loss, double Accuracy) Evaluate(Module<Tensor, Tensor> model, Tensor images, Tensor labels, int chunk = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        // Means over zero images would be 0/0 = NaN, returned as if they were figures.
        if (images.dim() < 1 || images.shape[0] == 0)
            throw new ArgumentException($"Expected at least one image, found shape [{string.Join("×", images.shape)}].", nameof(images));
        long count = images.shape[0];
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"Expected int64 class indices, found {labels.dtype}; convert them with labels.to(ScalarType.Int64) (MnistTensors.From gives int64).",
                nameof(labels));
        if (labels.dim() != 1 || labels.shape[0] != count)
            throw new ArgumentException($"Expected one label per image ({count}), found shape [{string.Join("×", labels.shape)}].", nameof(labels));
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var lossSum = torch.zeros(Array.Empty<long>(), ScalarType.Float64);
            var correct = torch.zeros(Array.Empty<long>(), ScalarType.Int64);
            for (long start = 0; start < count; start += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long n = Math.Min(chunk, count - start);
                using var inner = torch.NewDisposeScope();
                var x = images.narrow(0, start, n);
                var y = labels.narrow(0, start, n);
                var logits = model.call(x);
                // The number of classes is known only from the model's output.
                if (start == 0)
                    CheckLabelRange(labels, logits.shape[^1]);
                lossSum.add_(functional.cross_entropy(logits, y, reduction: Reduction.Sum), Scalars.One);
                correct.add_(logits.argmax(1).eq(y).sum(), Scalars.OneIntegral);
            }
            return (lossSum.item<double>() / count, (double)correct.item<long>() / count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// Throws naming the first label outside [0, classes): cross_entropy would fail natively ("Target 12 is out of
    /// bounds") without saying which label.
    /// </summary>
    private static void CheckLabelRange(Tensor labels, long classes)
    {
        using var scope = torch.NewDisposeScope();
        var outside = labels.lt(0).logical_or_(labels.ge(classes));
        if (!outside.any().item<bool>())
            return;
        // argmax returns the first maximum: the first label out of range.
        long index = outside.to(ScalarType.Byte).argmax().item<long>();
        long value = labels[index].item<long>();
        throw new ArgumentException(
            $"Expected labels in [0, {classes}) (the model's {classes} classes), found {value} at index {index}.", nameof(labels));
    }
}
