using System.Numerics;
using System.Runtime.InteropServices;

namespace Dls.Audio.Resampling;

/// <summary>
/// A band-limited resampler: a Kaiser-windowed sinc low-pass evaluated as a polyphase filter at the exact rational
/// ratio of the two rates.
/// </summary>
/// <remarks>
/// <para>Quality (checked by the tests): the cut-off sits at 0.95 × the lower of the two Nyquist frequencies with a
/// transition band from 0.9 × to 1.0 × that Nyquist, designed for 80 dB rejection (Kaiser's formulas: β = 0.1102 (A − 8.7),
/// length = (A − 8) / (2.285 Δω)). A sine below 0.9 × the target Nyquist keeps its amplitude within 0.1 dB, content
/// above the target Nyquist is attenuated by at least 60 dB.</para>
/// <para>The output has round(n × out / in) samples (half rounded up), output sample k sits at input time
/// k × in / out, and the input is taken as zero outside its ends. Instances are immutable and thread-safe.</para>
/// </remarks>
public sealed class Resampler
{
    /// <summary>The stop-band rejection the filter is designed for, in dB.</summary>
    public const double DesignAttenuationDb = 80.0;

    /// <summary>The passband edge as a fraction of the lower Nyquist frequency.</summary>
    public const double PassbandEdge = 0.9;

    /// <summary>The stop-band edge as a fraction of the lower Nyquist frequency.</summary>
    public const double StopbandEdge = 1.0;

    /// <summary>
    /// The largest input rate / output rate accepted (192 kHz → 2 Hz fits). The filter grows with the ratio, about
    /// 100 taps per unit: 10 million taps at this limit, beyond which the length would soon overflow <see cref="int"/>.
    /// </summary>
    public const int MaxDownsamplingRatio = 100_000;

    // Above this many coefficients the phase table is not stored; weights are computed per output sample instead.
    private const long MaxTableSize = 1 << 21;

    // The resamplers GetShared hands out: the 64 pairs of rates used last, at most 4 M coefficients (16 MB) in all.
    private static readonly ResamplerCache Shared = new(maxPairs: 64, maxCoefficients: 1 << 22);

    private readonly int _up;      // L: output rate / gcd
    private readonly int _down;    // M: input rate / gcd
    private readonly int _halfTaps; // K: input samples each side of the output instant
    private readonly int _taps;    // stride of one phase (2K rounded up to the SIMD width)
    private readonly double _cutoff; // cycles per input sample
    private readonly double _beta;
    private readonly float[]? _table;

    /// <summary>Prepares the filter for one pair of rates.</summary>
    /// <param name="inputRate">The input sample rate in Hz.</param>
    /// <param name="outputRate">The output sample rate in Hz.</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate is not positive, or the input rate is more than
    /// <see cref="MaxDownsamplingRatio"/> times the output rate.</exception>
    public Resampler(int inputRate, int outputRate)
    {
        CheckRates(inputRate, outputRate);
        InputRate = inputRate;
        OutputRate = outputRate;
        int g = Gcd(inputRate, outputRate);
        _up = outputRate / g;
        _down = inputRate / g;

        // Work in input-sample units. r < 1 when downsampling: the filter must then follow the output's Nyquist.
        double r = Math.Min(1.0, (double)outputRate / inputRate);
        _cutoff = 0.5 * r * (PassbandEdge + StopbandEdge) / 2;
        double transition = Math.PI * (StopbandEdge - PassbandEdge) * r; // rad per input sample
        double length = (DesignAttenuationDb - 8) / (2.285 * transition);
        _beta = 0.1102 * (DesignAttenuationDb - 8.7);
        _halfTaps = (int)Math.Ceiling(length / 2) + 1;
        int width = Vector<float>.Count;
        _taps = ((2 * _halfTaps) + width - 1) / width * width;

        if ((long)_up * _taps <= MaxTableSize)
        {
            _table = new float[_up * _taps];
            for (int p = 0; p < _up; p++)
            {
                FillWeights(p, _table.AsSpan(p * _taps, _taps));
            }
        }
    }

    /// <summary>The input sample rate in Hz.</summary>
    public int InputRate { get; }

    /// <summary>The output sample rate in Hz.</summary>
    public int OutputRate { get; }

    /// <summary>Filter taps applied per output sample.</summary>
    public int TapsPerOutputSample => 2 * _halfTaps;

    /// <summary>The number of samples resampling <paramref name="inputLength"/> samples yields: round(n × out / in).</summary>
    /// <param name="inputLength">Input samples.</param>
    /// <param name="inputRate">Input rate in Hz.</param>
    /// <param name="outputRate">Output rate in Hz.</param>
    /// <returns>The output length.</returns>
    public static long OutputLength(long inputLength, int inputRate, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        return (long)Math.Floor(((double)inputLength * outputRate / inputRate) + 0.5);
    }

    /// <summary>
    /// The resampler for a pair of rates, built once and shared: instances are immutable, so every caller (any thread) may
    /// use the same one, and callers that ask for a new pair at once wait for one build. The filters of the 64 pairs used
    /// last are kept, at most 4,194,304 coefficients (16 MB) in all; the least recently used go first. A filter costs more
    /// to build than a second of audio costs to resample at 44.1 ↔ 16 kHz, and up to about 0.1 s at rates with a long
    /// common period (16,001 → 16,000 Hz); <see cref="Resample(ReadOnlySpan{float}, int, int)"/>, the denoiser and the
    /// speaker embedder resample through this.
    /// </summary>
    /// <param name="inputRate">The input sample rate in Hz.</param>
    /// <param name="outputRate">The output sample rate in Hz.</param>
    /// <returns>A resampler for these rates, equal in every output to a new one.</returns>
    /// <exception cref="ArgumentOutOfRangeException">As the constructor.</exception>
    public static Resampler GetShared(int inputRate, int outputRate) => Shared.Get(inputRate, outputRate);

    /// <summary>The number of filter coefficients this instance stores (0 when they are computed per output sample).</summary>
    internal long StoredCoefficients => _table?.Length ?? 0;

    /// <summary>Resamples a whole signal, with the filter of <see cref="GetShared"/>.</summary>
    /// <param name="input">The input samples.</param>
    /// <param name="inputRate">Input rate in Hz.</param>
    /// <param name="outputRate">Output rate in Hz.</param>
    /// <returns>The resampled samples (a copy when the rates are equal).</returns>
    public static float[] Resample(ReadOnlySpan<float> input, int inputRate, int outputRate) =>
        inputRate == outputRate && inputRate > 0 ? input.ToArray() : GetShared(inputRate, outputRate).Process(input);

    /// <summary>Resamples a signal to <paramref name="outputRate"/>.</summary>
    /// <param name="signal">The input.</param>
    /// <param name="outputRate">Output rate in Hz.</param>
    /// <returns>The resampled signal (the same instance when the rate already matches).</returns>
    public static AudioSignal Resample(AudioSignal signal, int outputRate)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return signal.SampleRate == outputRate ? signal : new AudioSignal(Resample(signal.Samples, signal.SampleRate, outputRate), outputRate);
    }

    /// <summary>Resamples <paramref name="input"/>.</summary>
    /// <param name="input">The input samples at <see cref="InputRate"/>.</param>
    /// <returns>round(n × out / in) samples at <see cref="OutputRate"/>.</returns>
    public float[] Process(ReadOnlySpan<float> input)
    {
        long outLength = OutputLength(input.Length, InputRate, OutputRate);
        if (outLength > Array.MaxLength)
        {
            throw new ArgumentException($"Resampling {input.Length} samples would give {outLength}, more than one array holds.", nameof(input));
        }

        var output = new float[outLength];
        if (_up == _down)
        {
            input.CopyTo(output);
            return output;
        }

        // Zero padding on both sides lets every output sample use one contiguous dot product.
        int pad = _taps + 1;
        var padded = new float[input.Length + (2 * pad)];
        input.CopyTo(padded.AsSpan(pad));
        float[] scratch = NewScratch();
        for (long k = 0; k < outLength; k++)
        {
            output[k] = OutputSample(k, padded.AsSpan((int)(WindowStart(k) + pad), _taps), scratch);
        }

        return output;
    }

    /// <summary>Creates a <see cref="ResamplingStream"/> that resamples a signal given a block at a time.</summary>
    /// <param name="output">Receives each run of finished output samples (the span is valid only during the call).</param>
    /// <returns>The stream; its output is, sample for sample, what <see cref="Process"/> gives for the whole signal.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    public ResamplingStream CreateStream(Action<ReadOnlySpan<float>> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new(this, output);
    }

    /// <summary>
    /// The most input samples after an output sample's own instant that a <see cref="ResamplingStream"/> waits for
    /// before it hands that sample on: the filter's window reaches its length minus K samples ahead (K = half the taps;
    /// the length is 2K rounded up to the SIMD width), plus one for the instant's fraction. 0 when the rates are equal.
    /// </summary>
    public int StreamLagSamples => IsIdentity ? 0 : _taps - _halfTaps + 1;

    /// <summary>Whether the rates are equal (output = input).</summary>
    internal bool IsIdentity => _up == _down;

    /// <summary>Input samples each output sample reads (the stride of one phase of the filter).</summary>
    internal int WindowLength => _taps;

    /// <summary>The first input index output sample <paramref name="k"/> reads: floor(k·M/L) − K + 1 (negative near the start).</summary>
    internal long WindowStart(long k) => (k * _down / _up) - _halfTaps + 1;

    /// <summary>Scratch for <see cref="OutputSample"/> (empty when the phase table is stored).</summary>
    internal float[] NewScratch() => _table is null ? new float[_taps] : [];

    /// <summary>
    /// Output sample <paramref name="k"/> from its <see cref="WindowLength"/> input samples starting at
    /// <see cref="WindowStart"/>(k), zeros outside the signal. The one place an output value is computed, so a stream
    /// gives the bits a whole-signal call gives.
    /// </summary>
    internal float OutputSample(long k, ReadOnlySpan<float> window, float[] scratch)
    {
        // Output k sits at input time k·M/L = base + phase/L.
        long position = k * _down;
        long baseIndex = position / _up;
        int phase = (int)(position - (baseIndex * _up));
        ReadOnlySpan<float> weights;
        if (_table is null)
        {
            FillWeights(phase, scratch);
            weights = scratch;
        }
        else
        {
            weights = _table.AsSpan(phase * _taps, _taps);
        }

        // Weight j applies to input sample base − K + 1 + j.
        return Dot(window, weights);
    }

    private void FillWeights(int phase, Span<float> weights)
    {
        double frac = (double)phase / _up;
        weights.Clear();
        double twoFc = 2 * _cutoff;
        double i0Beta = BesselI0(_beta);
        for (int j = 0; j < 2 * _halfTaps; j++)
        {
            // Distance in input samples between input sample (base − K + 1 + j) and the output instant (base + frac).
            double x = j - _halfTaps + 1 - frac;
            double ratio = x / _halfTaps;
            if (Math.Abs(ratio) >= 1)
            {
                continue;
            }

            double sinc = x == 0 ? 1 : Math.Sin(Math.PI * twoFc * x) / (Math.PI * twoFc * x);
            double window = BesselI0(_beta * Math.Sqrt(1 - (ratio * ratio))) / i0Beta;
            weights[j] = (float)(twoFc * sinc * window);
        }
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        // Both lengths are a multiple of the vector width (the taps were rounded up with zero weights).
        ReadOnlySpan<Vector<float>> va = MemoryMarshal.Cast<float, Vector<float>>(a);
        ReadOnlySpan<Vector<float>> vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        Vector<float> acc0 = Vector<float>.Zero;
        Vector<float> acc1 = Vector<float>.Zero;
        int i = 0;
        for (; i + 1 < va.Length; i += 2)
        {
            acc0 += va[i] * vb[i];
            acc1 += va[i + 1] * vb[i + 1];
        }

        if (i < va.Length)
        {
            acc0 += va[i] * vb[i];
        }

        return Vector.Sum(acc0 + acc1);
    }

    private static double BesselI0(double x)
    {
        // Power series Σ ((x/2)^k / k!)², converged well below double precision for the β used here.
        double sum = 1, term = 1, half = x / 2;
        for (int k = 1; k < 60; k++)
        {
            term *= half / k;
            double t2 = term * term;
            sum += t2;
            if (t2 < sum * 1e-17)
            {
                break;
            }
        }

        return sum;
    }

    /// <summary>The constructor's checks: positive rates, and a downsampling ratio the filter can be built for.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As the constructor.</exception>
    internal static void CheckRates(int inputRate, int outputRate)
    {
        if (inputRate <= 0 || outputRate <= 0)
        {
            throw new ArgumentOutOfRangeException(
                inputRate <= 0 ? nameof(inputRate) : nameof(outputRate),
                $"Sample rates must be positive; found input {inputRate} Hz, output {outputRate} Hz.");
        }

        // The filter length grows with the ratio; far enough out it overflows int and silently becomes no filter at all.
        if ((long)inputRate > (long)outputRate * MaxDownsamplingRatio)
        {
            throw new ArgumentOutOfRangeException(nameof(inputRate), inputRate,
                $"The downsampling ratio input rate / output rate must be at most {MaxDownsamplingRatio} (its filter takes about 100 taps per unit of ratio); " +
                $"found {inputRate} Hz → {outputRate} Hz, a ratio of {(double)inputRate / outputRate:G6}.");
        }
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
