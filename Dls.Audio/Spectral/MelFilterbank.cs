using static TorchSharp.torch;

namespace Dls.Audio.Spectral;

/// <summary>The Hz ↔ mel mapping.</summary>
public enum MelScale
{
    /// <summary>Slaney's Auditory Toolbox scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above (librosa's default, <c>htk=False</c>).</summary>
    Slaney,

    /// <summary>The HTK formula 2595 · log10(1 + f / 700) (<c>htk=True</c>).</summary>
    Htk,
}

/// <summary>How each triangular filter is scaled.</summary>
public enum MelNormalization
{
    /// <summary>Peak 1.</summary>
    None,

    /// <summary>Unit area in Hz (height 2 / bandwidth): librosa's default <c>norm="slaney"</c>.</summary>
    Slaney,
}

/// <summary>Options of a mel filterbank, named after librosa's <c>filters.mel</c>; defaults follow librosa except <see cref="MelCount"/>.</summary>
public sealed record MelOptions
{
    /// <summary>The sample rate in Hz (default 16000).</summary>
    public int SampleRate { get; init; } = 16000;

    /// <summary>The FFT size the filters apply to (default 1024); filters have NFft / 2 + 1 weights.</summary>
    public int NFft { get; init; } = 1024;

    /// <summary>The number of mel bands (default 40, the speaker-verification habit; librosa's default is 128).</summary>
    public int MelCount { get; init; } = 40;

    /// <summary>Lowest band edge in Hz (default 0).</summary>
    public double MinFrequency { get; init; }

    /// <summary>Highest band edge in Hz; <see langword="null"/> means SampleRate / 2.</summary>
    public double? MaxFrequency { get; init; }

    /// <summary>The Hz ↔ mel mapping (default <see cref="MelScale.Slaney"/>).</summary>
    public MelScale Scale { get; init; } = MelScale.Slaney;

    /// <summary>Filter scaling (default <see cref="MelNormalization.Slaney"/>).</summary>
    public MelNormalization Normalization { get; init; } = MelNormalization.Slaney;

    /// <summary>Lists every problem with these options (empty when valid).</summary>
    /// <returns>One message per bad field.</returns>
    public IReadOnlyList<string> GetErrors()
    {
        var errors = new List<string>();
        if (SampleRate <= 0)
        {
            errors.Add($"SampleRate must be positive; found {SampleRate}");
        }

        if (NFft < 2)
        {
            errors.Add($"NFft must be at least 2; found {NFft}");
        }

        if (MelCount < 1)
        {
            errors.Add($"MelCount must be at least 1; found {MelCount}");
        }

        double max = MaxFrequency ?? SampleRate / 2.0;
        if (!(MinFrequency >= 0))
        {
            errors.Add($"MinFrequency must be ≥ 0 Hz; found {MinFrequency}");
        }

        if (!(max > MinFrequency) || max > (SampleRate / 2.0) + 1e-9)
        {
            errors.Add($"MaxFrequency must be above MinFrequency ({MinFrequency} Hz) and at most SampleRate / 2 ({SampleRate / 2.0} Hz); found {max}");
        }

        if (!Enum.IsDefined(Scale))
        {
            errors.Add($"Scale {(int)Scale} is not a defined MelScale");
        }

        if (!Enum.IsDefined(Normalization))
        {
            errors.Add($"Normalization {(int)Normalization} is not a defined MelNormalization");
        }

        return errors;
    }

    /// <summary>Throws if any option is invalid, listing all problems.</summary>
    /// <exception cref="ArgumentException">At least one option is invalid.</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetErrors();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid mel options: {string.Join("; ", errors)}.");
        }
    }
}

/// <summary>
/// A bank of triangular mel filters, computed as <c>librosa.filters.mel</c> does (triangles between mel-spaced
/// edges, evaluated at the FFT bin frequencies), in double precision.
/// </summary>
public sealed class MelFilterbank
{
    private readonly double[] _weights;

    /// <summary>Builds the filters.</summary>
    /// <param name="options">The options; <see langword="null"/> means the defaults.</param>
    public MelFilterbank(MelOptions? options = null)
    {
        Options = options ?? new MelOptions();
        Options.Validate();
        int bins = (Options.NFft / 2) + 1;
        int mels = Options.MelCount;
        double fmax = Options.MaxFrequency ?? Options.SampleRate / 2.0;
        double melMin = HzToMel(Options.MinFrequency, Options.Scale);
        double melMax = HzToMel(fmax, Options.Scale);
        var edges = new double[mels + 2];
        for (int i = 0; i < edges.Length; i++)
        {
            edges[i] = MelToHz(melMin + ((melMax - melMin) * i / (mels + 1)), Options.Scale);
        }

        _weights = new double[mels * bins];
        for (int m = 0; m < mels; m++)
        {
            double lowerWidth = edges[m + 1] - edges[m];
            double upperWidth = edges[m + 2] - edges[m + 1];
            double norm = Options.Normalization == MelNormalization.Slaney ? 2.0 / (edges[m + 2] - edges[m]) : 1.0;
            for (int k = 0; k < bins; k++)
            {
                double f = (double)k * Options.SampleRate / Options.NFft;
                double rising = (f - edges[m]) / lowerWidth;
                double falling = (edges[m + 2] - f) / upperWidth;
                _weights[(m * bins) + k] = Math.Max(0, Math.Min(rising, falling)) * norm;
            }
        }

        CenterFrequencies = edges[1..^1];
        Bins = bins;
    }

    /// <summary>The options.</summary>
    public MelOptions Options { get; }

    /// <summary>The number of mel bands.</summary>
    public int MelCount => Options.MelCount;

    /// <summary>The number of FFT bins each filter spans (NFft / 2 + 1).</summary>
    public int Bins { get; }

    /// <summary>The centre frequency of each band in Hz.</summary>
    public IReadOnlyList<double> CenterFrequencies { get; }

    /// <summary>Hz → mel.</summary>
    /// <param name="hz">Frequency in Hz.</param>
    /// <param name="scale">The mapping.</param>
    /// <returns>The mel value.</returns>
    public static double HzToMel(double hz, MelScale scale)
    {
        if (scale == MelScale.Htk)
        {
            return 2595.0 * Math.Log10(1.0 + (hz / 700.0));
        }

        // Slaney: 200/3 Hz per mel up to 1 kHz (= 15 mel), then log steps of ln(6.4) / 27 per mel.
        const double fSp = 200.0 / 3;
        const double minLogHz = 1000.0;
        const double minLogMel = minLogHz / fSp;
        double logStep = Math.Log(6.4) / 27.0;
        return hz >= minLogHz ? minLogMel + (Math.Log(hz / minLogHz) / logStep) : hz / fSp;
    }

    /// <summary>Mel → Hz.</summary>
    /// <param name="mel">The mel value.</param>
    /// <param name="scale">The mapping.</param>
    /// <returns>Frequency in Hz.</returns>
    public static double MelToHz(double mel, MelScale scale)
    {
        if (scale == MelScale.Htk)
        {
            return 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);
        }

        const double fSp = 200.0 / 3;
        const double minLogHz = 1000.0;
        const double minLogMel = minLogHz / fSp;
        double logStep = Math.Log(6.4) / 27.0;
        return mel >= minLogMel ? minLogHz * Math.Exp(logStep * (mel - minLogMel)) : fSp * mel;
    }

    /// <summary>The weights as a new <c>MelCount × Bins</c> row-major array (float32).</summary>
    /// <returns>Weight of bin k in band m at index m × Bins + k.</returns>
    public float[] GetWeights() => _weights.Select(w => (float)w).ToArray();

    /// <summary>The weights as a tensor <c>(mels, bins)</c>.</summary>
    /// <param name="dtype">float32 (default) or float64.</param>
    /// <returns>A new tensor.</returns>
    public Tensor ToTensor(ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        Tensor t = tensor(_weights, [MelCount, Bins], dtype: ScalarType.Float64).to_type(dtype);
        return scope.MoveToOuter(t);
    }

    /// <summary>Applies the filters to a power (or magnitude) spectrogram on plain arrays.</summary>
    /// <param name="spectrogram">Bins × frames, row-major (as <see cref="ComplexSpectrogram.Magnitude"/> lays it out).</param>
    /// <param name="frames">The number of frames.</param>
    /// <returns>Mels × frames, row-major.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frames"/> is negative.</exception>
    /// <exception cref="ArgumentException">The spectrogram does not hold <see cref="Bins"/> × <paramref name="frames"/> values.</exception>
    public float[] Apply(ReadOnlySpan<float> spectrogram, int frames)
    {
        if (frames < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frames), frames, $"Expected a frame count ≥ 0; found {frames}.");
        }

        if (spectrogram.Length != (long)Bins * frames)
        {
            throw new ArgumentException($"Expected {Bins} bins × {frames} frames = {(long)Bins * frames} values; found {spectrogram.Length}.", nameof(spectrogram));
        }

        var result = new float[MelCount * frames];
        var acc = new double[frames];
        for (int m = 0; m < MelCount; m++)
        {
            Array.Clear(acc);
            for (int k = 0; k < Bins; k++)
            {
                double w = _weights[(m * Bins) + k];
                if (w == 0)
                {
                    continue;
                }

                ReadOnlySpan<float> row = spectrogram.Slice(k * frames, frames);
                for (int t = 0; t < frames; t++)
                {
                    acc[t] += w * row[t];
                }
            }

            for (int t = 0; t < frames; t++)
            {
                result[(m * frames) + t] = (float)acc[t];
            }
        }

        return result;
    }
}
