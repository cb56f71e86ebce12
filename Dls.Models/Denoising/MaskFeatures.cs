using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>The input scaling every mask network applies to the noisy magnitude before its first layer.</summary>
public static class MaskFeatures
{
    /// <summary>
    /// <c>log(1 + |X|)</c> of the linear STFT magnitude (1024-point FFT of a periodic-Hann-windowed frame of samples
    /// in [-1, 1], no normalisation). The log compresses the wide range of speech spectra so that quiet bins still
    /// move the first layer; the +1 keeps silence at 0 instead of −∞. (A gain inside the log, log(1 + 1000·|X|),
    /// was tried and trained no better on the shared corpus.)
    /// </summary>
    /// <param name="magnitude">Linear magnitude, any shape.</param>
    /// <returns>The scaled features, same shape.</returns>
    public static Tensor Scale(Tensor magnitude)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        return magnitude.log1p();
    }
}
