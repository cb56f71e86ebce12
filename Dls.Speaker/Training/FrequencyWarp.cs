using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>Linear warping of the frequency axis of frame features (vocal-tract-length perturbation).</summary>
public static class FrequencyWarp
{
    /// <summary>
    /// The (bins, bins) matrix M with features · M = features resampled at bin k·factor (linear interpolation, clamped
    /// at the last bin): factor &gt; 1 moves spectral content down (a longer vocal tract), &lt; 1 up.
    /// </summary>
    /// <exception cref="ArgumentException">bins &lt; 2 or factor not positive.</exception>
    public static Tensor Matrix(int bins, double factor)
    {
        if (bins < 2) throw new ArgumentException($"Expected at least 2 bins, found {bins}.", nameof(bins));
        if (!(factor > 0)) throw new ArgumentException($"Expected a positive warp factor, found {factor}.", nameof(factor));
        var w = new float[bins * bins];
        for (int k = 0; k < bins; k++)
        {
            double source = Math.Min(k * factor, bins - 1);
            int i0 = (int)Math.Floor(source);
            int i1 = Math.Min(i0 + 1, bins - 1);
            double frac = source - i0;
            w[i0 * bins + k] += (float)(1 - frac);
            w[i1 * bins + k] += (float)frac;
        }
        return tensor(w).view(bins, bins);
    }
}
