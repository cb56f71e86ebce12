using Dls.Models.Training;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Mnist;

/// <summary>Shows the trainer's per-batch progress as one host progress task per epoch.</summary>
internal sealed class TrainingProgressBridge(IProgressReporter reporter, string label, int batchesPerEpoch) : IProgress<TrainingProgress>, IDisposable
{
    private IProgressTask? current;
    private long total;

    public void Report(TrainingProgress value)
    {
        if (value.Kind == TrainingProgressKind.Batch)
        {
            if (current is null)
            {
                total = Math.Max(1, value.BatchesPerEpoch ?? batchesPerEpoch);
                current = reporter.Start($"{label} epoch {value.Epoch}/{value.Epochs}", total);
            }

            current.Report(value.Batch, double.IsNaN(value.RunningLoss) ? null : $"loss {value.RunningLoss:F4}");
        }
        else
        {
            // The epoch finished: every batch counts as done, also when the last ones were not reported one by one. A
            // failed or cancelled epoch never gets here, and its line says where it ended.
            current?.Report(total);
            Dispose();
        }
    }

    public void Dispose()
    {
        current?.Dispose();
        current = null;
    }
}
