using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Spectral;

/// <summary>
/// Short-time Fourier transform and its inverse on TorchSharp tensors, with librosa's semantics and torch's layout
/// (<c>(…, bins, frames)</c>, complex). Also works on plain <see cref="float"/> arrays.
/// </summary>
/// <remarks>
/// <para>The window is computed once (in double precision) when the transform is created. <see cref="Forward(Tensor)"/>
/// and <see cref="Inverse(Tensor, long?)"/> are differentiable: they record autograd history for inputs that require gradients.
/// Thread-safe: the precomputed windows are only read.</para>
/// <para>Dispose the instance to free its window tensors.</para>
/// </remarks>
public sealed class Stft : IDisposable
{
    private readonly Tensor _window32;
    private readonly Tensor _window64;
    private readonly double[] _paddedWindowSquared;
    private readonly double _steadyStateNolaMin;
    private readonly object _nolaLock = new();
    private (long Frames, long Length, double Min, long At) _lastNola = (-1, -1, 0, 0);
    private bool _disposed;

    /// <summary>The smallest overlap-added squared window accepted by <see cref="Inverse(Tensor, long?)"/>; torch uses the same bound.</summary>
    public const double NolaThreshold = 1e-11;

    /// <summary>Creates a transform.</summary>
    /// <param name="options">The options; <see langword="null"/> means <see cref="StftOptions.Librosa"/>.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public Stft(StftOptions? options = null)
    {
        Options = options ?? StftOptions.Librosa;
        Options.Validate();
        double[] window = Options.CreateWindow();

        int nFft = Options.NFft;
        int offset = (nFft - window.Length) / 2; // torch and librosa centre a shorter window inside n_fft
        _paddedWindowSquared = new double[nFft];
        for (int i = 0; i < window.Length; i++)
        {
            _paddedWindowSquared[offset + i] = window[i] * window[i];
        }

        _steadyStateNolaMin = SteadyStateEnvelopeMin();

        using (torch.no_grad())
        {
            _window64 = torch.tensor(window, dtype: ScalarType.Float64).DetachFromDisposeScope();
            _window32 = _window64.to_type(ScalarType.Float32).DetachFromDisposeScope();
        }
    }

    /// <summary>The options.</summary>
    public StftOptions Options { get; }

    /// <summary>The number of frequency bins, NFft / 2 + 1.</summary>
    public int Bins => Options.Bins;

    /// <summary>
    /// Whether overlap-add can reconstruct the interior of a signal with these options (the NOLA condition: the sum of
    /// squared, shifted windows never vanishes). <see cref="Inverse(Tensor, long?)"/> additionally checks the signal ends.
    /// </summary>
    public bool SatisfiesNola => _steadyStateNolaMin > NolaThreshold;

    /// <summary>Computes the STFT.</summary>
    /// <param name="waveform">Real signal, <c>(samples)</c> or <c>(batch, samples)</c>, float32 or float64, any device.</param>
    /// <returns>A complex tensor <c>(bins, frames)</c> or <c>(batch, bins, frames)</c> (complex64 for float32 input,
    /// complex128 for float64), as <c>librosa.stft</c> and <c>torch.stft(return_complex=True)</c> lay it out.</returns>
    /// <exception cref="ArgumentException">Wrong rank or dtype, an empty batch (<c>(0, samples)</c>), or a signal too short
    /// for the options (<see cref="StftOptions.FrameCount"/> is 0).</exception>
    public Tensor Forward(Tensor waveform)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(waveform);
        if (waveform.dim() is not (1 or 2))
        {
            throw new ArgumentException($"Stft.Forward expects (samples) or (batch, samples); found shape [{string.Join(", ", waveform.shape)}].", nameof(waveform));
        }

        // libtorch's FFT fails on a batch of 0 with an MKL configuration error; refuse it here in the caller's terms.
        if (waveform.dim() == 2 && waveform.shape[0] == 0)
        {
            throw new ArgumentException(
                $"Stft.Forward needs at least one signal in the batch; found shape [{string.Join(", ", waveform.shape)}].", nameof(waveform));
        }

        long samples = waveform.shape[^1];
        int nFft = Options.NFft;
        using var scope = torch.NewDisposeScope();
        Tensor window = WindowFor(waveform.dtype, waveform.device, nameof(waveform));
        Tensor framed = waveform;
        if (Options.Center)
        {
            int pad = nFft / 2;
            if (Options.PadMode == StftPadMode.Reflect && samples <= pad)
            {
                throw new ArgumentException(
                    $"Reflect padding needs more than NFft / 2 = {pad} samples; found {samples}. Use StftPadMode.Constant or a longer signal.",
                    nameof(waveform));
            }

            // An odd NFft is padded by (NFft − 1) / 2 on each side, one sample short of a frame when the signal is empty.
            if (samples + (2 * pad) < nFft)
            {
                throw new ArgumentException(
                    $"A centred STFT with odd NFft = {nFft} needs at least 1 sample to fill a frame; found {samples}.", nameof(waveform));
            }

            // F.pad pads the last dimension of a (batch, channel, samples) tensor for the reflect mode.
            Tensor three = waveform.dim() == 1 ? waveform.view(1, 1, samples) : waveform.unsqueeze(1);
            Tensor padded = Options.PadMode == StftPadMode.Reflect
                ? nn.functional.pad(three, [pad, pad], PaddingModes.Reflect)
                : nn.functional.pad(three, [pad, pad], PaddingModes.Constant, 0.0);
            framed = waveform.dim() == 1 ? padded.view(-1) : padded.squeeze(1);
        }
        else if (samples < nFft)
        {
            throw new ArgumentException($"Without centring the signal must hold at least NFft = {nFft} samples; found {samples}.", nameof(waveform));
        }

        Tensor spectrum = torch.stft(framed, nFft, Options.HopLength, Options.EffectiveWinLength, window,
            center: false, normalized: false, onesided: true, return_complex: true);
        return scope.MoveToOuter(spectrum);
    }

    /// <summary>Inverts the STFT by weighted overlap-add (the least-squares inverse, as <c>torch.istft</c>/<c>librosa.istft</c>).</summary>
    /// <param name="spectrum">Complex <c>(bins, frames)</c> or <c>(batch, bins, frames)</c> with bins = NFft / 2 + 1.</param>
    /// <param name="length">The output length in samples (trims or zero-pads); <see langword="null"/> gives what
    /// <c>torch.istft</c> and <c>librosa.istft</c> give: NFft + HopLength × (frames − 1) without centring, and when centred
    /// that minus NFft / 2 (rounded down) at each end, i.e. HopLength × (frames − 1) for an even NFft and one sample more
    /// for an odd one.</param>
    /// <returns>Real <c>(samples)</c> or <c>(batch, samples)</c>, float32 for complex64 input, float64 for complex128.
    /// An output length of 0 (<paramref name="length"/> 0, or one centred frame of an even NFft, as from a signal shorter
    /// than the hop) gives an empty <c>(0)</c> or <c>(batch, 0)</c> tensor, as librosa trims such a signal to nothing.</returns>
    /// <exception cref="ArgumentException">Wrong shape or dtype, no frames, an empty batch, or options that cannot
    /// reconstruct the requested samples (the overlap-added squared window vanishes somewhere: the NOLA condition fails).</exception>
    public Tensor Inverse(Tensor spectrum, long? length = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(spectrum);
        if (spectrum.dim() is not (2 or 3) || !spectrum.is_complex())
        {
            throw new ArgumentException(
                $"Stft.Inverse expects a complex (bins, frames) or (batch, bins, frames) tensor; found {spectrum.dtype} of shape [{string.Join(", ", spectrum.shape)}].",
                nameof(spectrum));
        }

        if (spectrum.shape[^2] != Bins)
        {
            throw new ArgumentException($"Stft.Inverse expects {Bins} frequency bins (NFft {Options.NFft} / 2 + 1); found {spectrum.shape[^2]}.", nameof(spectrum));
        }

        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The output length cannot be negative.");
        }

        long frames = spectrum.shape[^1];
        if (frames < 1)
        {
            throw new ArgumentException("Stft.Inverse needs at least one frame; found 0.", nameof(spectrum));
        }

        if (spectrum.dim() == 3 && spectrum.shape[0] == 0)
        {
            throw new ArgumentException(
                $"Stft.Inverse needs at least one spectrogram in the batch; found shape [{string.Join(", ", spectrum.shape)}].", nameof(spectrum));
        }

        ScalarType realType = spectrum.dtype == ScalarType.ComplexFloat64 ? ScalarType.Float64 : ScalarType.Float32;
        using var scope = torch.NewDisposeScope();
        if (OutputLength(frames, length) == 0)
        {
            // torch.istft fails on an empty output range; there is nothing to reconstruct, so no NOLA check either.
            long[] shape = [.. spectrum.shape[..^2], 0];
            return scope.MoveToOuter(torch.zeros(shape, dtype: realType, device: spectrum.device));
        }

        CheckNola(frames, length);
        Tensor window = WindowFor(realType, spectrum.device, nameof(spectrum));
        Tensor signal = torch.istft(spectrum, Options.NFft, Options.HopLength, Options.EffectiveWinLength, window,
            center: Options.Center, normalized: false, onesided: true, length: length ?? -1);
        return scope.MoveToOuter(signal);
    }

    /// <summary>Computes the STFT of plain samples without touching tensors.</summary>
    /// <param name="samples">The signal.</param>
    /// <returns>The complex spectrogram, bins × frames.</returns>
    public ComplexSpectrogram Forward(ReadOnlySpan<float> samples)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor x = torch.tensor(samples.ToArray(), dtype: ScalarType.Float32);
        Tensor spec = Forward(x);
        return ComplexSpectrogram.FromTensor(spec);
    }

    /// <summary>Inverts a spectrogram to plain samples without touching tensors.</summary>
    /// <param name="spectrogram">A spectrogram with <see cref="Bins"/> bins.</param>
    /// <param name="length">The output length, or <see langword="null"/> as in <see cref="Inverse(Tensor, long?)"/>.</param>
    /// <returns>The signal.</returns>
    public float[] Inverse(ComplexSpectrogram spectrogram, int? length = null)
    {
        ArgumentNullException.ThrowIfNull(spectrogram);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor spec = spectrogram.ToTensor();
        Tensor y = Inverse(spec, length);
        return y.contiguous().data<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _window32.Dispose();
        _window64.Dispose();
    }

    private Tensor WindowFor(ScalarType dtype, Device device, string parameter)
    {
        Tensor w = dtype switch
        {
            ScalarType.Float32 => _window32,
            ScalarType.Float64 => _window64,
            _ => throw new ArgumentException($"Expected a float32 or float64 signal; found {dtype}.", parameter),
        };

        // A window on another device is copied per call; the copy belongs to the caller's dispose scope.
        return w.device == device ? w : w.to(device);
    }

    private long OutputLength(long frames, long? length)
    {
        if (length is long l)
        {
            return l;
        }

        long total = Options.NFft + (Options.HopLength * (frames - 1));
        return Options.Center ? total - (2 * (Options.NFft / 2)) : total;
    }

    private double SteadyStateEnvelopeMin()
    {
        // Far from the ends, output sample t (mod hop) receives Σ_k w²[t + k·hop] over every window position.
        int nFft = Options.NFft;
        int hop = Options.HopLength;
        double min = double.PositiveInfinity;
        for (int t = 0; t < Math.Min(hop, nFft); t++)
        {
            double sum = 0;
            for (int i = t; i < nFft; i += hop)
            {
                sum += _paddedWindowSquared[i];
            }

            min = Math.Min(min, sum);
        }

        // A hop longer than the FFT leaves samples no frame covers.
        return hop > nFft ? 0 : min;
    }

    private void CheckNola(long frames, long? length)
    {
        int nFft = Options.NFft;
        int hop = Options.HopLength;
        long total = nFft + (hop * (frames - 1));
        long start = Options.Center ? nFft / 2 : 0;
        long end = length is long l ? Math.Min(total, start + l) : (Options.Center ? total - (nFft / 2) : total);
        if (end <= start)
        {
            return;
        }

        double min;
        long at;
        lock (_nolaLock)
        {
            if (_lastNola.Frames == frames && _lastNola.Length == (length ?? -1))
            {
                (_, _, min, at) = _lastNola;
            }
            else
            {
                (min, at) = EnvelopeMin(frames, total, start, end);
                _lastNola = (frames, length ?? -1, min, at);
            }
        }

        if (!(min > NolaThreshold))
        {
            string hint = Options.Center
                ? "use a hop no longer than the window's non-zero part (Hann: hop ≤ NFft / 2 reconstructs perfectly)"
                : "a window that is zero at its ends cannot reconstruct the first and last samples without centring: set Center = true or use a window without zero ends";
            throw new ArgumentException(
                $"ISTFT cannot reconstruct with {Describe()}: the overlap-added squared window (NOLA condition) must exceed {NolaThreshold:g} " +
                $"at every output sample, but it is {min:g} at sample {at - start}; {hint}.");
        }
    }

    private (double Min, long At) EnvelopeMin(long frames, long total, long start, long end)
    {
        int nFft = Options.NFft;
        int hop = Options.HopLength;
        double min = double.PositiveInfinity;
        long at = start;

        // The interior (at least NFft from both ends of the framed range) sees every window position: it equals the
        // steady state. Only the two edge regions need explicit sums.
        long interiorStart = nFft;
        long interiorEnd = total - nFft;
        if (interiorEnd > interiorStart && Math.Max(start, interiorStart) < Math.Min(end, interiorEnd) && _steadyStateNolaMin < min)
        {
            min = _steadyStateNolaMin;
            at = Math.Max(start, interiorStart);
        }

        void Scan(long from, long to)
        {
            for (long t = Math.Max(from, start); t < Math.Min(to, end); t++)
            {
                long firstFrame = Math.Max(0, (t - nFft + hop) / hop);
                long lastFrame = Math.Min(frames - 1, t / hop);
                double sum = 0;
                for (long f = firstFrame; f <= lastFrame; f++)
                {
                    long i = t - (f * hop);
                    if (i >= 0 && i < nFft)
                    {
                        sum += _paddedWindowSquared[i];
                    }
                }

                if (sum < min)
                {
                    min = sum;
                    at = t;
                }
            }
        }

        Scan(0, Math.Min(interiorStart, total));
        Scan(Math.Max(interiorEnd, interiorStart), total);
        return (min, at);
    }

    private string Describe() =>
        $"NFft {Options.NFft}, HopLength {Options.HopLength}, WinLength {Options.EffectiveWinLength}, {Options.Window} window, Center {Options.Center}";
}
