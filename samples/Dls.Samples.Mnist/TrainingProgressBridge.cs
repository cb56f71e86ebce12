using Dls.Models.Training;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Mnist;

/// <summary>Shows the trainer's per-batch progress as one host progress task per epoch.</summary>
internal sealed class TrainingProgressBridge(IProgressReporter reporter, string label, int batchesPerEpoch) : IProgress<TrainingProgress>, IDisposable
{
    private IProgressTask? current;

    public void Report(TrainingProgress value)
    {
        if (value.Kind == TrainingProgressKind.Batch)
        {
            current ??= reporter.Start($"{label} epoch {value.Epoch}/{value.Epochs}", Math.Max(1, value.BatchesPerEpoch ?? batchesPerEpoch));
            current.Report(value.Batch, double.IsNaN(value.RunningLoss) ? null : $"loss {value.RunningLoss:F4}");
        }
        else
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        current?.Dispose();
        current = null;
    }
}
