using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// The STFT settings of the assignment, fixed for every mask network: n_fft 1024, hop 512, periodic Hann window,
/// centred frames with reflect padding (librosa's legacy defaults, <see cref="StftOptions.LibrosaLegacy"/>), 513 bins.
/// A thin adapter over Dls.Audio's <see cref="Stft"/> that lays tensors out (batch, frames, bins), the order the
/// networks use. Both directions are differentiable (the waveform loss needs the inverse).
/// </summary>
public static class DenoisingStft
{
    /// <summary>FFT length in samples.</summary>
    public const int FftLength = 1024;

    /// <summary>Hop between frames in samples.</summary>
    public const int HopLength = 512;

    /// <summary>Frequency bins per frame (<c>FftLength / 2 + 1</c>).</summary>
    public const int Bins = (FftLength / 2) + 1;

    // One transform for the process: its windows are only read, so every thread may share it.
    private static readonly Stft Transform = new(StftOptions.LibrosaLegacy with { NFft = FftLength, HopLength = HopLength });

    /// <summary>The transform's options (<see cref="StftOptions.LibrosaLegacy"/> at 1024/512).</summary>
    public static StftOptions Options => Transform.Options;

    /// <summary>Number of frames of a signal of <paramref name="samples"/> samples (centred frames).</summary>
    /// <param name="samples">Signal length.</param>
    /// <returns><c>1 + samples / HopLength</c>.</returns>
    public static long FrameCount(long samples) => 1 + (samples / HopLength);

    /// <summary>The periodic Hann window of length <see cref="FftLength"/>, the one the transform uses.</summary>
    /// <returns>A new float32 tensor of shape (1024).</returns>
    public static Tensor Window() => tensor(Transform.Options.CreateWindow().Select(w => (float)w).ToArray());

    /// <summary>Complex spectrum of waveforms.</summary>
    /// <param name="waveform">Shape (batch, samples), float32, samples &gt; 512 (reflect padding needs more than half a window).</param>
    /// <returns>Complex tensor (batch, frames, 513).</returns>
    public static Tensor Forward(Tensor waveform)
    {
        ArgumentNullException.ThrowIfNull(waveform);
        if (waveform.dim() != 2 || waveform.shape[1] <= FftLength / 2)
        {
            throw new ArgumentException(
                $"Expected a waveform of shape (batch, samples) with samples > {FftLength / 2}; found ({string.Join(", ", waveform.shape)}).", nameof(waveform));
        }

        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Transform.Forward(waveform).transpose(1, 2));
    }

    /// <summary>Waveforms from complex spectra (overlap-add, divided by the summed squared window).</summary>
    /// <param name="spectrum">Complex tensor (batch, frames, 513).</param>
    /// <param name="length">Output length in samples.</param>
    /// <returns>Shape (batch, length).</returns>
    public static Tensor Inverse(Tensor spectrum, long length)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        if (spectrum.dim() != 3 || spectrum.shape[2] != Bins || !spectrum.is_complex())
        {
            throw new ArgumentException(
                $"Expected a complex spectrum of shape (batch, frames, {Bins}); found {spectrum.dtype} ({string.Join(", ", spectrum.shape)}).", nameof(spectrum));
        }

        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Transform.Inverse(spectrum.transpose(1, 2), length));
    }
}
