using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// The STFT settings of the assignment, fixed for every mask network: n_fft 1024, hop 512, periodic Hann window,
/// centred frames with reflect padding (librosa's defaults), 513 bins. Tensors are laid out (batch, frames, bins),
/// the order the networks use. Both directions are differentiable (the waveform loss needs the inverse).
/// </summary>
public static class DenoisingStft
{
    /// <summary>FFT length in samples.</summary>
    public const int FftLength = 1024;

    /// <summary>Hop between frames in samples.</summary>
    public const int HopLength = 512;

    /// <summary>Frequency bins per frame (<c>FftLength / 2 + 1</c>).</summary>
    public const int Bins = (FftLength / 2) + 1;

    /// <summary>Number of frames of a signal of <paramref name="samples"/> samples (centred frames).</summary>
    /// <param name="samples">Signal length.</param>
    /// <returns><c>1 + samples / HopLength</c>.</returns>
    public static long FrameCount(long samples) => 1 + (samples / HopLength);

    /// <summary>The periodic Hann window of length <see cref="FftLength"/>.</summary>
    /// <returns>A new float32 tensor of shape (1024).</returns>
    public static Tensor Window() => hann_window(FftLength, periodic: true, dtype: ScalarType.Float32);

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
        using Tensor window = Window().to(waveform.device);
        Tensor spec = stft(waveform, FftLength, HopLength, FftLength, window, center: true, pad_mode: PaddingModes.Reflect, normalized: false, onesided: true, return_complex: true);
        return scope.MoveToOuter(spec.transpose(1, 2));
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
        using Tensor window = Window().to(spectrum.device);
        Tensor wave = istft(spectrum.transpose(1, 2), FftLength, HopLength, FftLength, window, center: true, normalized: false, onesided: true, length: length, return_complex: false);
        return scope.MoveToOuter(wave);
    }
}
