namespace Dls.Audio.Spectral;

/// <summary>The analysis window of a short-time Fourier transform.</summary>
public enum StftWindow
{
    /// <summary>Periodic Hann, 0.5 − 0.5 cos(2πn/N) (librosa's and torch's <c>hann_window(periodic=True)</c>).</summary>
    Hann,

    /// <summary>Periodic Hamming, 0.54 − 0.46 cos(2πn/N).</summary>
    Hamming,

    /// <summary>All ones (no tapering).</summary>
    Rectangular,
}

/// <summary>How a centred STFT pads the signal ends by n_fft / 2 samples.</summary>
public enum StftPadMode
{
    /// <summary>Zeros: librosa ≥ 0.9's default (<c>pad_mode="constant"</c>).</summary>
    Constant,

    /// <summary>Mirror without repeating the edge sample: librosa ≤ 0.8's and <c>torch.stft</c>'s default.</summary>
    Reflect,
}

/// <summary>
/// Options of a short-time Fourier transform, named after librosa's parameters. Immutable; call
/// <see cref="Validate"/> (done by <see cref="Stft"/>) to get every problem reported at once.
/// </summary>
public sealed record StftOptions
{
    /// <summary>librosa ≥ 0.9 semantics (zero padding when centred) with n_fft 1024 and hop 512, as the course assignment used.</summary>
    public static StftOptions Librosa { get; } = new();

    /// <summary>librosa ≤ 0.8 (and <c>torch.stft</c>) semantics: reflect padding when centred; n_fft 1024, hop 512.</summary>
    public static StftOptions LibrosaLegacy { get; } = new() { PadMode = StftPadMode.Reflect };

    /// <summary>FFT size in samples (default 1024); the transform has NFft / 2 + 1 frequency bins.</summary>
    public int NFft { get; init; } = 1024;

    /// <summary>Samples between the starts of consecutive frames (default 512).</summary>
    public int HopLength { get; init; } = 512;

    /// <summary>Window length in samples (≤ <see cref="NFft"/>; the window is zero-padded to NFft, centred);
    /// <see langword="null"/> means <see cref="NFft"/>.</summary>
    public int? WinLength { get; init; }

    /// <summary>The window (periodic Hann by default).</summary>
    public StftWindow Window { get; init; } = StftWindow.Hann;

    /// <summary>Whether frame t is centred on sample t × HopLength (the signal is padded by NFft / 2 on both sides); default true.</summary>
    public bool Center { get; init; } = true;

    /// <summary>The padding used when <see cref="Center"/> is true (default <see cref="StftPadMode.Constant"/>).</summary>
    public StftPadMode PadMode { get; init; } = StftPadMode.Constant;

    /// <summary>The window length actually used: <see cref="WinLength"/> or <see cref="NFft"/>.</summary>
    public int EffectiveWinLength => WinLength ?? NFft;

    /// <summary>The number of frequency bins, NFft / 2 + 1.</summary>
    public int Bins => (NFft / 2) + 1;

    /// <summary>The number of frames for a signal of <paramref name="samples"/> samples.</summary>
    /// <param name="samples">Signal length.</param>
    /// <returns>1 + (padded − NFft) / hop, where padded is the signal plus NFft / 2 (rounded down) on each side when
    /// centred, else the signal itself: 1 + samples / hop when centred with an even NFft, 1 + (samples − 1) / hop with an
    /// odd one; 0 if the padded signal is shorter than NFft.</returns>
    public long FrameCount(long samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        long padded = Center ? samples + (2 * (NFft / 2)) : samples;
        return padded < NFft ? 0 : 1 + ((padded - NFft) / HopLength);
    }

    /// <summary>Lists every problem with these options (empty when valid).</summary>
    /// <returns>One message per bad field, each naming the field, the allowed range and the value found.</returns>
    public IReadOnlyList<string> GetErrors()
    {
        var errors = new List<string>();
        if (NFft < 2)
        {
            errors.Add($"NFft must be at least 2; found {NFft}");
        }

        if (HopLength < 1)
        {
            errors.Add($"HopLength must be at least 1; found {HopLength}");
        }

        if (WinLength is int w && (w < 1 || w > NFft))
        {
            errors.Add($"WinLength must be in 1..NFft ({NFft}); found {w}");
        }

        if (!Enum.IsDefined(Window))
        {
            errors.Add($"Window {(int)Window} is not a defined StftWindow");
        }

        if (!Enum.IsDefined(PadMode))
        {
            errors.Add($"PadMode {(int)PadMode} is not a defined StftPadMode");
        }

        return errors;
    }

    /// <summary>Throws if any option is invalid, listing all problems in one message.</summary>
    /// <exception cref="ArgumentException">At least one option is invalid.</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetErrors();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid STFT options ({errors.Count} problem{(errors.Count == 1 ? string.Empty : "s")}): {string.Join("; ", errors)}.");
        }
    }

    /// <summary>The window of length <see cref="EffectiveWinLength"/>, computed in double precision.</summary>
    /// <returns>The window samples.</returns>
    public double[] CreateWindow()
    {
        Validate();
        int n = EffectiveWinLength;
        if (n == 1)
        {
            // The periodic formula at N = 1 is cos(0) = 1, giving Hann 0 and Hamming 0.08; torch's *_window(1) and
            // scipy.signal.get_window(…, 1) both return [1], which is what a one-sample window should pass.
            return [1.0];
        }

        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            // Periodic windows divide by N (not N − 1), as scipy.signal.get_window(fftbins=True) and torch do.
            double c = Math.Cos(2 * Math.PI * i / n);
            w[i] = Window switch
            {
                StftWindow.Hann => 0.5 - (0.5 * c),
                StftWindow.Hamming => 0.54 - (0.46 * c),
                _ => 1.0,
            };
        }

        return w;
    }
}
