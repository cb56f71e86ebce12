using Dls.Samples.Abstractions;
using Dls.Speaker.Evaluation;

namespace Dls.Samples.Speaker;

/// <summary>
/// The score distributions of a scored trial list as one PNG: the share of same-speaker and of different-speaker trials
/// per score bin, with the decision threshold as a vertical line — where the two classes overlap, and how a threshold
/// cuts them, at a glance (speaker-train and speaker-eval).
/// </summary>
internal static class ScorePlot
{
    /// <summary>Bins across the range of the scores.</summary>
    internal const int Bins = 40;

    /// <summary>Draws both classes' histograms (in % of each class's trials) and the threshold.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="result">The scored trials (both classes present).</param>
    /// <param name="threshold">The decision threshold drawn (a cosine).</param>
    /// <param name="thresholdLabel">What the threshold is, for the legend.</param>
    public static void Save(string path, string title, SpeakerEvaluationResult result, double threshold, string thresholdLabel)
    {
        var (centres, target, nonTarget) = Histograms(result.TargetScores, result.NonTargetScores, Bins);
        double top = Math.Max(target.Max(), nonTarget.Max());
        Plots.Lines(path, title, "score (cosine)", "share of the class's trials (%)",
        [
            new PlotSeries($"same speaker ({result.TargetScores.Length} trials)", centres, target),
            new PlotSeries($"different speakers ({result.NonTargetScores.Length} trials)", centres, nonTarget),
            new PlotSeries($"{thresholdLabel} {threshold:F3}", [threshold, threshold], [0, top]),
        ]);
    }

    /// <summary>
    /// Both classes counted in the same <paramref name="bins"/> equal bins spanning all scores (the last bin closed), each
    /// in % of its own class's trials, so that classes of very different sizes share one axis.
    /// </summary>
    /// <exception cref="ArgumentException">A class without scores, or a score that is not finite.</exception>
    internal static (double[] Centres, double[] Target, double[] NonTarget) Histograms(double[] targetScores, double[] nonTargetScores, int bins)
    {
        CheckScores(targetScores, nameof(targetScores));
        CheckScores(nonTargetScores, nameof(nonTargetScores));
        double low = Math.Min(targetScores.Min(), nonTargetScores.Min());
        double high = Math.Max(targetScores.Max(), nonTargetScores.Max());
        double width = (high - low) / bins;
        if (!(width > 0))
        {
            // All scores equal: narrow bins (0.01) centred on that score, so the axis stays at the scores' scale.
            width = 0.01;
            low -= width * bins / 2;
        }

        double[] Share(double[] scores)
        {
            var counts = new double[bins];
            foreach (double s in scores)
            {
                counts[Math.Min((int)((s - low) / width), bins - 1)]++;
            }

            return counts.Select(c => 100 * c / scores.Length).ToArray();
        }

        double[] centres = Enumerable.Range(0, bins).Select(i => low + ((i + 0.5) * width)).ToArray();
        return (centres, Share(targetScores), Share(nonTargetScores));
    }

    private static void CheckScores(double[] scores, string name)
    {
        ArgumentNullException.ThrowIfNull(scores, name);
        if (scores.Length == 0)
        {
            throw new ArgumentException("Expected at least one score; found none.", name);
        }

        int bad = Array.FindIndex(scores, v => !double.IsFinite(v));
        if (bad >= 0)
        {
            throw new ArgumentException($"Expected finite scores; found {scores[bad]} at index {bad}.", name);
        }
    }
}
