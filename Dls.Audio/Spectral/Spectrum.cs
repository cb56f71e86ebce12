using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Spectral;

/// <summary>
/// Magnitude/phase split and recombination of complex spectra — the denoiser's path: enhance |X|, keep arg X,
/// rebuild |X̂| e^{i arg X}. All functions are differentiable and keep the input's shape.
/// </summary>
public static class Spectrum
{
    /// <summary>The magnitude |X| of a complex tensor.</summary>
    /// <param name="spectrum">Complex tensor of any shape, e.g. <c>(batch, bins, frames)</c>.</param>
    /// <returns>A real tensor of the same shape (float32 for complex64).</returns>
    public static Tensor Magnitude(Tensor spectrum)
    {
        RequireComplex(spectrum, nameof(spectrum));
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(spectrum.abs());
    }

    /// <summary>The phase arg X, in radians in (−π, π], of a complex tensor.</summary>
    /// <param name="spectrum">Complex tensor of any shape.</param>
    /// <returns>A real tensor of the same shape.</returns>
    public static Tensor Phase(Tensor spectrum)
    {
        RequireComplex(spectrum, nameof(spectrum));
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(spectrum.angle());
    }

    /// <summary>Recombines magnitude and phase: magnitude × e^{i·phase}.</summary>
    /// <param name="magnitude">Real tensor, e.g. <c>(batch, bins, frames)</c>; float32 or float64.</param>
    /// <param name="phase">Real tensor of the same shape and dtype, in radians.</param>
    /// <returns>A complex tensor of that shape (complex64 for float32).</returns>
    /// <exception cref="ArgumentException">Shapes or dtypes differ, or an input is complex.</exception>
    public static Tensor FromPolar(Tensor magnitude, Tensor phase)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        ArgumentNullException.ThrowIfNull(phase);
        if (magnitude.is_complex() || phase.is_complex())
        {
            throw new ArgumentException($"FromPolar expects real magnitude and phase; found {magnitude.dtype} and {phase.dtype}.");
        }

        if (!magnitude.shape.SequenceEqual(phase.shape))
        {
            throw new ArgumentException(
                $"Magnitude and phase must have the same shape; found [{string.Join(", ", magnitude.shape)}] and [{string.Join(", ", phase.shape)}].");
        }

        if (magnitude.dtype != phase.dtype)
        {
            throw new ArgumentException($"Magnitude and phase must have the same dtype; found {magnitude.dtype} and {phase.dtype}.");
        }

        using var scope = NewDisposeScope();
        return scope.MoveToOuter(torch.polar(magnitude, phase));
    }

    private static void RequireComplex(Tensor spectrum, string name)
    {
        ArgumentNullException.ThrowIfNull(spectrum, name);
        if (!spectrum.is_complex())
        {
            throw new ArgumentException($"Expected a complex spectrum; found {spectrum.dtype} of shape [{string.Join(", ", spectrum.shape)}].", name);
        }
    }
}
