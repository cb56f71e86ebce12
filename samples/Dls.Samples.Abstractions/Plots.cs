using Dls.Audio.IO;
using ScottPlot;

namespace Dls.Samples.Abstractions;

/// <summary>One line or point series of a plot.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (same length as <paramref name="X"/>).</param>
public sealed record PlotSeries(string Label, double[] X, double[] Y);

/// <summary>The samples' charts (loss curves, accuracy against size, DET curves) as PNG files.</summary>
public static class Plots
{
    private const int Width = 900;
    private const int Height = 560;

    /// <summary>Draws each series as a line with markers.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis label (with unit).</param>
    /// <param name="yLabel">Y axis label (with unit).</param>
    /// <param name="series">The series.</param>
    /// <param name="logX">Whether the x axis is logarithmic (base 10).</param>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<PlotSeries> series, bool logX = false)
        => Draw(path, title, xLabel, yLabel, series, logX, lines: true);

    /// <summary>Draws each series as unconnected points.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis label (with unit).</param>
    /// <param name="yLabel">Y axis label (with unit).</param>
    /// <param name="series">The series.</param>
    /// <param name="logX">Whether the x axis is logarithmic (base 10).</param>
    public static void Scatter(string path, string title, string xLabel, string yLabel, IEnumerable<PlotSeries> series, bool logX = false)
        => Draw(path, title, xLabel, yLabel, series, logX, lines: false);

    private static void Draw(string path, string title, string xLabel, string yLabel, IEnumerable<PlotSeries> series, bool logX, bool lines)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(series);
        using var plot = new Plot();
        bool anyLabel = false;
        foreach (PlotSeries s in series)
        {
            if (s.X.Length != s.Y.Length)
            {
                throw new ArgumentException($"Series '{s.Label}': expected as many X as Y values, found {s.X.Length} X and {s.Y.Length} Y.", nameof(series));
            }

            double[] xs = logX ? s.X.Select(Math.Log10).ToArray() : s.X;
            var scatter = plot.Add.Scatter(xs, s.Y);
            scatter.LegendText = s.Label;
            scatter.MarkerSize = lines ? 5 : 8;
            scatter.LineWidth = lines ? 2 : 0;
            anyLabel |= !string.IsNullOrEmpty(s.Label);
        }

        if (logX)
        {
            // ScottPlot has no log axis: plot log10(x) and label the ticks with the original values.
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Math.Pow(10, v).ToString("G3") };
            plot.Axes.Bottom.TickGenerator = ticks;
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (anyLabel)
        {
            // Below the data area, not inside it: loss and error curves fall towards the corner an inner legend takes.
            plot.ShowLegend(Edge.Bottom);
        }

        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
    }
}
