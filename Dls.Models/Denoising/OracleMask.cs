using Dls.Audio;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Masks computed from the true clean and noise spectra: the ceiling a learned mask can approach.</summary>
public enum OracleMaskKind
{
    /// <summary>Ideal ratio mask |S| / (|S| + |N|).</summary>
    IdealRatio,

    /// <summary>Power ratio (Wiener-like) mask |S|² / (|S|² + |N|²).</summary>
    PowerRatio,
}

/// <summary>Applies oracle masks with the noisy phase, at the STFT settings of <see cref="DenoisingStft"/>.</summary>
public static class OracleMask
{
    /// <summary>Denoises <paramref name="noisy"/> with a mask computed from the true <paramref name="clean"/> and <paramref name="noise"/>.</summary>
    /// <param name="noisy">The mixture (at least one sample; finite).</param>
    /// <param name="clean">The clean part (same length; finite).</param>
    /// <param name="noise">The noise part (same length; finite).</param>
    /// <param name="kind">Which mask.</param>
    /// <returns>The masked mixture, as long as the input.</returns>
    /// <remarks>
    /// Input of at most <see cref="DenoisingStft.HopLength"/> samples (too short for the STFT's reflect padding) is
    /// zero-extended to one sample more and the output cut back, as the denoiser does, so the oracle scores every
    /// example the denoiser can denoise.
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths differ, the input is empty, or a sample is NaN or ±∞ (array, index and value named).</exception>
    public static float[] Apply(float[] noisy, float[] clean, float[] noise, OracleMaskKind kind)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(noise);
        if (clean.Length != noisy.Length || noise.Length != noisy.Length)
        {
            throw new ArgumentException($"Expected equal lengths; found noisy {noisy.Length}, clean {clean.Length}, noise {noise.Length}.", clean.Length != noisy.Length ? nameof(clean) : nameof(noise));
        }

        if (noisy.Length == 0)
        {
            throw new ArgumentException("Expected at least one sample; found an empty signal.", nameof(noisy));
        }

        // One NaN would spread through the frames around it and return non-finite output without an error.
        RequireFinite(noisy, nameof(noisy));
        RequireFinite(clean, nameof(clean));
        RequireFinite(noise, nameof(noise));

        using var guard = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = DenoisingStft.Forward(Waveform(noisy));
        Tensor s = DenoisingStft.Forward(Waveform(clean)).abs();
        Tensor n = DenoisingStft.Forward(Waveform(noise)).abs();
        // A bin where both are zero gets mask 0 (nothing to keep); 1e-12 only avoids 0/0.
        Tensor mask = kind switch
        {
            OracleMaskKind.IdealRatio => s.div(s.add(n, Scalars.One).add(Scalars.MaskEpsilon, Scalars.One)),
            OracleMaskKind.PowerRatio => s.square().div(s.square().add(n.square(), Scalars.One).add(Scalars.MaskEpsilon, Scalars.One)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Expected IdealRatio or PowerRatio."),
        };
        float[] output = DenoisingStft.Inverse(x * mask, PaddedLength(noisy.Length)).squeeze(0).data<float>().ToArray();
        return output.Length == noisy.Length ? output : output[..noisy.Length];
    }

    /// <summary>The length the transform gets: unchanged above half a window, else zero-extended like <c>MaskInference.DenoiseWhole</c>.</summary>
    private static int PaddedLength(int length) => Math.Max(length, DenoisingStft.HopLength + 1);

    /// <summary>Shape (1, samples), zero-extended to <see cref="PaddedLength"/>.</summary>
    private static Tensor Waveform(float[] samples)
    {
        int length = PaddedLength(samples.Length);
        return tensor(length == samples.Length ? samples : [.. samples, .. new float[length - samples.Length]]).unsqueeze(0);
    }

    private static void RequireFinite(float[] samples, string paramName)
    {
        int bad = SampleChecks.IndexOfNonFinite(samples);
        if (bad >= 0)
        {
            throw new ArgumentException($"Expected finite samples in {paramName}; found {samples[bad]} at index {bad}.", paramName);
        }
    }
}
