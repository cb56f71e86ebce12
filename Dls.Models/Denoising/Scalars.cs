using TorchSharp;

namespace Dls.Models.Denoising;

/// <summary>
/// Scalars that live for the whole process. TorchSharp frees a <see cref="Scalar"/> in its finalizer, and an implicitly
/// converted temporary (a literal, or the hidden <c>alpha = 1</c> of <c>a + b</c> and <c>a − b</c>) can be finalized
/// while native code still reads it; long GRU trainings crashed that way ("toFloat … Expected false to be true" inside
/// <c>add</c>). Hot paths therefore pass these explicitly.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Ten = 10.0.ToScalar();
    public static readonly Scalar LossEpsilon = 1e-8.ToScalar();
    public static readonly Scalar MaskEpsilon = 1e-12.ToScalar();
}
