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
    /// <param name="noisy">The mixture.</param>
    /// <param name="clean">The clean part (same length).</param>
    /// <param name="noise">The noise part (same length).</param>
    /// <param name="kind">Which mask.</param>
    /// <returns>The masked mixture, as long as the input.</returns>
    public static float[] Apply(float[] noisy, float[] clean, float[] noise, OracleMaskKind kind)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(noise);
        if (clean.Length != noisy.Length || noise.Length != noisy.Length)
        {
            throw new ArgumentException($"Expected equal lengths; found noisy {noisy.Length}, clean {clean.Length}, noise {noise.Length}.");
        }

        using var guard = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = DenoisingStft.Forward(tensor(noisy).unsqueeze(0));
        Tensor s = DenoisingStft.Forward(tensor(clean).unsqueeze(0)).abs();
        Tensor n = DenoisingStft.Forward(tensor(noise).unsqueeze(0)).abs();
        // A bin where both are zero gets mask 0 (nothing to keep); 1e-12 only avoids 0/0.
        Tensor mask = kind switch
        {
            OracleMaskKind.IdealRatio => s.div(s.add(n, Scalars.One).add(Scalars.MaskEpsilon, Scalars.One)),
            OracleMaskKind.PowerRatio => s.square().div(s.square().add(n.square(), Scalars.One).add(Scalars.MaskEpsilon, Scalars.One)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Expected IdealRatio or PowerRatio."),
        };
        return DenoisingStft.Inverse(x * mask, noisy.Length).squeeze(0).data<float>().ToArray();
    }
}
