using TorchSharp;

namespace Dls.Models;

/// <summary>
/// Scalars that live for the whole process, passed explicitly on hot paths. TorchSharp frees a <see cref="Scalar"/> in
/// its finalizer, and an implicitly converted temporary (a literal, or the hidden <c>alpha = 1</c> of <c>a + b</c>,
/// <c>a − b</c> and <c>add_(tensor)</c>) is unreachable once its handle has been read, so the finalizer thread can free
/// it while libtorch still reads it; long trainings crashed that way ("toFloat … Expected false to be true" in <c>add</c>).
/// </summary>
internal static class Scalars
{
    /// <summary>1, the <c>alpha</c> of a plain addition.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>Integral 1, for accumulating into integer tensors (libtorch refuses a floating alpha there).</summary>
    public static readonly Scalar OneIntegral = 1L.ToScalar();

    /// <summary>10, for decibels.</summary>
    public static readonly Scalar Ten = 10.0.ToScalar();

    /// <summary>Added to both energies of the waveform SNR loss, so that silent excerpts give no 0/0.</summary>
    public static readonly Scalar LossEpsilon = 1e-8.ToScalar();

    /// <summary>The floor of the oracle masks' denominators.</summary>
    public static readonly Scalar MaskEpsilon = 1e-12.ToScalar();
}
