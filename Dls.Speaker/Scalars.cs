using TorchSharp;

namespace Dls.Speaker;

/// <summary>
/// Scalars that live for the whole process. TorchSharp frees a <see cref="Scalar"/> in its finalizer, and an implicitly
/// converted temporary (a literal such as the 1 of <c>1 − x</c>, or the hidden <c>alpha = 1</c> of <c>a + b</c> and
/// <c>a − b</c>) can be finalized while native code still reads it: long trainings crash inside <c>add</c> with
/// "toFloat … Expected false to be true" (seen here in the feature extractor's log floor). Hot paths pass these explicitly.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar Zero = 0.0.ToScalar();
    public static readonly Scalar Half = 0.5.ToScalar();
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar MinusOne = (-1.0).ToScalar();
    public static readonly Scalar Two = 2.0.ToScalar();
}
