using Dls.Samples.Abstractions;
using Dls.Speaker.Evaluation;

namespace Dls.Samples.Speaker;

/// <summary>DET curves of scored trial lists as one PNG (speaker-train and speaker-eval).</summary>
internal static class DetPlot
{
    /// <summary>Draws each system's DET curve, labelled with its EER.</summary>
    public static void Save(string path, string title, IEnumerable<(string Label, SpeakerEvaluationResult Result)> systems) =>
        Plots.Lines(path, title, "false-accept rate (%, log scale; 0 shown at 0.01)", "miss rate (%)",
            systems.Select(s => Series($"{s.Label} (EER {s.Result.Eer.Eer:P2})", s.Result)).ToArray(), logX: true);

    /// <summary>The operating region of a DET curve (both error rates ≤ 40 %), false accepts floored at 0.01 % for the log axis.</summary>
    private static PlotSeries Series(string label, SpeakerEvaluationResult result)
    {
        var points = result.Det().Where(p => p.MissRate <= 0.4 && p.FalseAcceptRate <= 0.4).ToArray();
        return new PlotSeries(label, points.Select(p => Math.Max(100 * p.FalseAcceptRate, 0.01)).ToArray(), points.Select(p => 100 * p.MissRate).ToArray());
    }
}
