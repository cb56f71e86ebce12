using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>
/// Linear warping of the frequency axis of frame features (vocal-tract-length perturbation): output bin k takes the
/// value at fractional input bin k·factor (linear interpolation, clamped at the last bin). factor &gt; 1 moves spectral
/// content down (a longer vocal tract), factor &lt; 1 moves it up. Precomputes the gather indices once.
/// </summary>
public sealed class FrequencyWarp : IDisposable
{
    private readonly Tensor _lower;
    private readonly Tensor _upper;
    private readonly Tensor _fraction;
    private readonly Tensor _complement;

    /// <summary>Creates the warp for <paramref name="bins"/> bins.</summary>
    /// <exception cref="ArgumentException">bins &lt; 2 or a non-positive factor.</exception>
    public FrequencyWarp(int bins, double factor)
    {
        if (bins < 2) throw new ArgumentException($"Expected at least 2 bins, found {bins}.", nameof(bins));
        if (!(factor > 0)) throw new ArgumentException($"Expected a positive warp factor, found {factor}.", nameof(factor));
        Bins = bins;
        Factor = factor;
        var lower = new long[bins];
        var upper = new long[bins];
        var fraction = new float[bins];
        for (int k = 0; k < bins; k++)
        {
            double source = Math.Min(k * factor, bins - 1);
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

    /// <summary>The warp factor.</summary>
    public double Factor { get; }

    /// <summary>Warps features.</summary>
    /// <param name="features">Shape (…, Bins).</param>
    /// <returns>Same shape.</returns>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.shape[^1] != Bins)
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
