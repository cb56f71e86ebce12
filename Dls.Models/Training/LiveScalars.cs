using TorchSharp;

namespace Dls.Models.Training;

/// <summary>
/// Scalars that live for the whole process, for per-batch calls outside the denoising code (which keeps its own).
/// TorchSharp frees a <see cref="Scalar"/> in its finalizer, and the implicit temporary behind an overload such as
/// <c>add_(tensor)</c> (which forwards <c>alpha = 1</c>) is unreachable once its handle has been read, so the
/// finalizer thread can free it while libtorch still reads it. Passing a long-lived scalar closes that window.
/// </summary>
internal static class LiveScalars
{
    /// <summary>1, the <c>alpha</c> of a plain accumulation.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>Integral 1, for accumulating into integer tensors (libtorch refuses a floating alpha there).</summary>
    public static readonly Scalar OneIntegral = 1L.ToScalar();
}
