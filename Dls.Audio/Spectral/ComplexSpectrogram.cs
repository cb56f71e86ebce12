using static TorchSharp.torch;

namespace Dls.Audio.Spectral;

/// <summary>
/// A complex spectrogram on plain arrays, for code that never touches tensors. Element (bin, frame) is at index
/// <c>bin × Frames + frame</c> of <see cref="Real"/> and <see cref="Imaginary"/> (the row-major layout of librosa's
/// <c>(bins, frames)</c> array).
/// </summary>
/// <param name="Bins">Frequency bins (NFft / 2 + 1).</param>
/// <param name="Frames">Time frames.</param>
/// <param name="Real">Real parts, Bins × Frames.</param>
/// <param name="Imaginary">Imaginary parts, Bins × Frames.</param>
public sealed record ComplexSpectrogram(int Bins, int Frames, float[] Real, float[] Imaginary)
{
    /// <summary>Magnitudes |X| (a new array, same layout).</summary>
    /// <returns>Bins × Frames magnitudes.</returns>
    public float[] Magnitude()
    {
        Check();
        var m = new float[Real.Length];
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = MathF.Sqrt((Real[i] * Real[i]) + (Imaginary[i] * Imaginary[i]));
        }

        return m;
    }

    /// <summary>Phases arg X in (−π, π] (a new array, same layout).</summary>
    /// <returns>Bins × Frames phases in radians.</returns>
    public float[] Phase()
    {
        Check();
        var p = new float[Real.Length];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = MathF.Atan2(Imaginary[i], Real[i]);
        }

        return p;
    }

    /// <summary>Builds a spectrogram from magnitudes and phases: magnitude × e^{i·phase}.</summary>
    /// <param name="bins">Frequency bins.</param>
    /// <param name="frames">Time frames.</param>
    /// <param name="magnitude">Bins × Frames magnitudes.</param>
    /// <param name="phase">Bins × Frames phases in radians.</param>
    /// <returns>The complex spectrogram.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> below 1 or <paramref name="frames"/> below 0.</exception>
    /// <exception cref="ArgumentException">Magnitudes or phases of another length than bins × frames.</exception>
    public static ComplexSpectrogram FromPolar(int bins, int frames, ReadOnlySpan<float> magnitude, ReadOnlySpan<float> phase)
    {
        if (bins < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, $"Expected at least 1 frequency bin; found {bins}.");
        }

        if (frames < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frames), frames, $"Expected 0 or more frames; found {frames}.");
        }

        long n = (long)bins * frames;
        if (magnitude.Length != n || phase.Length != n)
        {
            throw new ArgumentException(
                $"Expected {bins} × {frames} = {n} magnitudes and phases; found {magnitude.Length} magnitudes and {phase.Length} phases.");
        }

        var re = new float[n];
        var im = new float[n];
        for (int i = 0; i < n; i++)
        {
            (float sin, float cos) = MathF.SinCos(phase[i]);
            re[i] = magnitude[i] * cos;
            im[i] = magnitude[i] * sin;
        }

        return new ComplexSpectrogram(bins, frames, re, im);
    }

    internal static ComplexSpectrogram FromTensor(Tensor spectrum)
    {
        using var scope = NewDisposeScope();
        Tensor c = spectrum.to_type(ScalarType.ComplexFloat32);
        int bins = (int)c.shape[^2];
        int frames = (int)c.shape[^1];
        float[] re = real(c).contiguous().data<float>().ToArray();
        float[] im = imag(c).contiguous().data<float>().ToArray();
        return new ComplexSpectrogram(bins, frames, re, im);
    }

    internal Tensor ToTensor()
    {
        Check();
        using var scope = NewDisposeScope();
        Tensor re = tensor(Real, [Bins, Frames]);
        Tensor im = tensor(Imaginary, [Bins, Frames]);
        return scope.MoveToOuter(complex(re, im));
    }

    private void Check()
    {
        long n = (long)Bins * Frames;
        if (Real is null || Imaginary is null || Real.Length != n || Imaginary.Length != n)
        {
            throw new ArgumentException(
                $"A {Bins} × {Frames} spectrogram needs {n} real and imaginary parts; found {Real?.Length ?? 0} and {Imaginary?.Length ?? 0}.");
        }
    }
}
