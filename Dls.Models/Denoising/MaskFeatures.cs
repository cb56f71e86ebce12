using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>The input scaling every mask network applies to the noisy magnitude before its first layer.</summary>
public static class MaskFeatures
{
    /// <summary>
    /// <c>log(1 + |X|)</c> of the linear STFT magnitude (1024-point FFT of a periodic-Hann-windowed frame of samples
    /// in [-1, 1], no normalisation). The log compresses the 60+ dB range of speech spectra so that quiet bins still
    /// move the first layer; the +1 keeps silence at 0 instead of −∞.
    /// </summary>
    /// <param name="magnitude">Linear magnitude, any shape.</param>
    /// <returns>The scaled features, same shape.</returns>
    public static double InputGain { get; } = double.Parse(Environment.GetEnvironmentVariable("DLS_GAIN") ?? "1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>x</summary>
    public static Tensor Scale(Tensor magnitude)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        return (magnitude * InputGain).log1p();
    }
}
