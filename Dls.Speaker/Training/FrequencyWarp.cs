using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>
/// Linear warping of the frequency axis of frame features (vocal-tract-length perturbation): output bin k takes the
/// value at fractional input bin k·factor (linear interpolation, clamped at the last bin). factor &gt; 1 moves spectral
/// content down (a longer vocal tract), factor &lt; 1 moves it up. A two-band warp uses another factor above a knee bin
/// (continuous, piecewise linear), which moves the first formant one way and the higher ones another — an affine change
/// of the upper formants like espeak-ng's voice variants make (<c>formant n freq …</c> scales and offsets each formant).
/// Precomputes the gather indices once.
/// </summary>
public sealed class FrequencyWarp : IDisposable
{
    private readonly Tensor _lower;
    private readonly Tensor _upper;
    private readonly Tensor _fraction;
    private readonly Tensor _complement;

    /// <summary>Creates the linear warp for <paramref name="bins"/> bins.</summary>
    /// <exception cref="ArgumentException">bins &lt; 2, or a factor that is not finite and positive.</exception>
    public FrequencyWarp(int bins, double factor) : this(bins, factor, factor, bins - 1)
    {
    }

    /// <summary>
    /// Creates a two-band warp: output bin k takes input bin k·<paramref name="factor"/> up to <paramref name="kneeBin"/>,
    /// and knee·factor + (k − knee)·<paramref name="highFactor"/> above it.
    /// </summary>
    /// <exception cref="ArgumentException">bins &lt; 2, a factor that is not finite and positive, or a knee outside
    /// [1, bins − 1].</exception>
    public FrequencyWarp(int bins, double factor, double highFactor, int kneeBin)
    {
        if (bins < 2) throw new ArgumentException($"Expected at least 2 bins, found {bins}.", nameof(bins));
        // Finite as well as positive: bin 0 reads source 0 · factor, which is NaN for +∞ and spreads into the output.
        if (!(factor > 0 && double.IsFinite(factor))) throw new ArgumentException($"Expected a finite positive warp factor, found {factor}.", nameof(factor));
        if (!(highFactor > 0 && double.IsFinite(highFactor))) throw new ArgumentException($"Expected a finite positive high-band warp factor, found {highFactor}.", nameof(highFactor));
        if (kneeBin < 1 || kneeBin > bins - 1) throw new ArgumentException($"Expected a knee bin in [1, {bins - 1}], found {kneeBin}.", nameof(kneeBin));
        Bins = bins;
        Factor = factor;
        HighFactor = highFactor;
        KneeBin = kneeBin;
        var lower = new long[bins];
        var upper = new long[bins];
        var fraction = new float[bins];
        for (int k = 0; k < bins; k++)
        {
            double source = Math.Min(k <= kneeBin ? k * factor : kneeBin * factor + (k - kneeBin) * highFactor, bins - 1);
            lower[k] = (long)Math.Floor(source);
            upper[k] = Math.Min(lower[k] + 1, bins - 1);
            fraction[k] = (float)(source - lower[k]);
        }
        _lower = tensor(lower).DetachFromDisposeScope();
        _upper = tensor(upper).DetachFromDisposeScope();
        _fraction = tensor(fraction).DetachFromDisposeScope();
        _complement = tensor(fraction.Select(f => 1 - f).ToArray()).DetachFromDisposeScope();
    }

    /// <summary>Number of bins.</summary>
    public int Bins { get; }

    /// <summary>The warp factor (below the knee, for a two-band warp).</summary>
    public double Factor { get; }

    /// <summary>The warp factor above <see cref="KneeBin"/> (equal to <see cref="Factor"/> for a linear warp).</summary>
    public double HighFactor { get; }

    /// <summary>The last bin warped by <see cref="Factor"/> (the last bin for a linear warp).</summary>
    public int KneeBin { get; }

    /// <summary>Warps features.</summary>
    /// <param name="features">Shape (…, Bins), at least one dimension.</param>
    /// <returns>Same shape.</returns>
    /// <exception cref="ArgumentException">A 0-dimensional tensor, or a last dimension other than <see cref="Bins"/>.</exception>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() == 0 || features.shape[^1] != Bins)
            throw new ArgumentException($"Expected features with {Bins} bins in the last dimension, found ({string.Join(", ", features.shape)}).", nameof(features));
        using var scope = NewDisposeScope();
        int last = (int)features.dim() - 1;
        var warped = features.index_select(last, _lower).mul(_complement).add(features.index_select(last, _upper).mul(_fraction), Scalars.One);
        return scope.MoveToOuter(warped);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _lower.Dispose();
        _upper.Dispose();
        _fraction.Dispose();
        _complement.Dispose();
    }
}
