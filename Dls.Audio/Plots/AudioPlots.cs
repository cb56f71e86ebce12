using Dls.Audio.IO;
using Dls.Audio.Spectral;
using ScottPlot;

namespace Dls.Audio.Plots;

/// <summary>Spectrogram and waveform pictures (PNG, ScottPlot 5), written atomically.</summary>
public static class AudioPlots
{
    /// <summary>Default picture width in pixels.</summary>
    public const int DefaultWidth = 1000;

    /// <summary>Default picture height in pixels.</summary>
    public const int DefaultHeight = 500;

    /// <summary>
    /// Renders the log-magnitude spectrogram (20·log10 |X| in dB relative to the loudest bin, floored at
    /// −<paramref name="dynamicRangeDb"/>) with time in s, frequency in Hz and a colour bar.
    /// </summary>
    /// <param name="signal">The signal (at least one sample).</param>
    /// <param name="title">The title; <see langword="null"/> for none.</param>
    /// <param name="options">STFT options; <see langword="null"/> gives n_fft 1024, hop 256 (finer time detail than the 512 default).</param>
    /// <param name="dynamicRangeDb">The range shown below the maximum (default 80 dB).</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <returns>The PNG bytes.</returns>
    /// <exception cref="ArgumentException">The signal is empty, or a sample is NaN or ±∞ (the message gives its index).</exception>
    public static byte[] RenderSpectrogram(
        AudioSignal signal,
        string? title = null,
        StftOptions? options = null,
        double dynamicRangeDb = 80,
        int width = DefaultWidth,
        int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(signal);
        CheckSize(width, height);
        if (signal.Length == 0)
        {
            throw new ArgumentException("Cannot draw the spectrogram of an empty signal.", nameof(signal));
        }

        CheckFinite(signal);

        if (!(dynamicRangeDb > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(dynamicRangeDb), dynamicRangeDb, "The dynamic range must be a positive number of dB.");
        }

        options ??= new StftOptions { NFft = 1024, HopLength = 256 };
        if (!options.Center && signal.Length < options.NFft)
        {
            options = options with { Center = true };
        }

        ComplexSpectrogram spec;
        using (var stft = new Stft(options))
        {
            spec = stft.Forward(signal.Samples);
        }

        float[] magnitude = spec.Magnitude();
        double max = 0;
        foreach (float m in magnitude)
        {
            max = Math.Max(max, m);
        }

        // Row 0 = bin 0 (drawn at the bottom with FlipVertically).
        var db = new double[spec.Bins, spec.Frames];
        double floor = -dynamicRangeDb;
        for (int k = 0; k < spec.Bins; k++)
        {
            for (int t = 0; t < spec.Frames; t++)
            {
                double m = magnitude[(k * spec.Frames) + t];
                db[k, t] = max > 0 && m > 0 ? Math.Max(floor, 20 * Math.Log10(m / max)) : floor;
            }
        }

        using var plot = new Plot();
        var heatmap = plot.Add.Heatmap(db);
        heatmap.FlipVertically = true;
        double hopSeconds = (double)options.HopLength / signal.SampleRate;
        double firstFrame = options.Center ? 0 : options.NFft / 2.0 / signal.SampleRate;
        double lastFrame = firstFrame + (hopSeconds * Math.Max(1, spec.Frames - 1));
        heatmap.Extent = new CoordinateRect(firstFrame, lastFrame, 0, signal.SampleRate / 2.0);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(floor, 0);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "dB (re. max)";
        plot.XLabel("Time (s)");
        plot.YLabel("Frequency (Hz)");
        plot.Axes.Margins(0, 0);
        if (title is not null)
        {
            plot.Title(title);
        }

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Writes <see cref="RenderSpectrogram"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The PNG file to create or replace.</param>
    /// <param name="signal">The signal.</param>
    /// <param name="title">The title; <see langword="null"/> for none.</param>
    /// <param name="options">STFT options, as for <see cref="RenderSpectrogram"/>.</param>
    /// <param name="dynamicRangeDb">The range shown below the maximum.</param>
    public static void SaveSpectrogram(string path, AudioSignal signal, string? title = null, StftOptions? options = null, double dynamicRangeDb = 80)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderSpectrogram(signal, title, options, dynamicRangeDb));
    }

    /// <summary>Renders the waveform: amplitude against time in s (dense signals drawn as min/max envelopes).</summary>
    /// <param name="signal">The signal.</param>
    /// <param name="title">The title; <see langword="null"/> for none.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <returns>The PNG bytes.</returns>
    /// <exception cref="ArgumentException">The signal is empty, or a sample is NaN or ±∞ (the message gives its index).</exception>
    public static byte[] RenderWaveform(AudioSignal signal, string? title = null, int width = DefaultWidth, int height = 300)
    {
        ArgumentNullException.ThrowIfNull(signal);
        CheckSize(width, height);
        if (signal.Length == 0)
        {
            throw new ArgumentException("Cannot draw the waveform of an empty signal.", nameof(signal));
        }

        CheckFinite(signal);

        double[] ys = new double[signal.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            ys[i] = signal.Samples[i];
        }

        using var plot = new Plot();
        var line = plot.Add.Signal(ys, 1.0 / signal.SampleRate);
        line.Color = Colors.SteelBlue;
        double peak = Math.Max(1e-6, ys.Max(Math.Abs));
        double limit = peak <= 1 ? 1 : peak * 1.05;
        plot.Axes.SetLimits(0, signal.DurationSeconds, -limit, limit);
        plot.XLabel("Time (s)");
        plot.YLabel("Amplitude");
        if (title is not null)
        {
            plot.Title(title);
        }

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Writes <see cref="RenderWaveform"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The PNG file to create or replace.</param>
    /// <param name="signal">The signal.</param>
    /// <param name="title">The title; <see langword="null"/> for none.</param>
    public static void SaveWaveform(string path, AudioSignal signal, string? title = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderWaveform(signal, title));
    }

    // One NaN makes the spectrogram's maximum NaN, so every pixel falls to the floor colour, and the waveform's axis
    // limits NaN: a blank picture and no error unless the samples are checked first.
    private static void CheckFinite(AudioSignal signal)
    {
        int bad = SampleChecks.IndexOfNonFinite(signal.Samples);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"Expected finite samples; found {signal.Samples[bad]} at index {bad} of {signal.Length}.", nameof(signal));
        }
    }

    private static void CheckSize(int width, int height)
    {
        if (width is < 50 or > 10000 || height is < 50 or > 10000)
        {
            throw new ArgumentOutOfRangeException(
                width is < 50 or > 10000 ? nameof(width) : nameof(height), $"Picture size must be 50..10000 pixels each way; found {width} × {height}.");
        }
    }
}
