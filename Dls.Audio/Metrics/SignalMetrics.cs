namespace Dls.Audio.Metrics;

/// <summary>
/// Signal-quality metrics on plain sample arrays, in dB (higher is better). All sums are accumulated in double.
/// </summary>
/// <remarks>
/// Edge cases are explicit, never an accidental NaN:
/// <list type="bullet">
/// <item>Different lengths, or empty inputs: <see cref="ArgumentException"/>.</item>
/// <item>A perfect estimate (zero error energy) of a non-silent reference: <see cref="double.PositiveInfinity"/>.</item>
/// <item>A silent reference with a non-zero error: <see cref="double.NegativeInfinity"/> for SNR; SI-SDR is
/// undefined for a silent reference (the optimal scale divides by its energy) and throws <see cref="ArgumentException"/>.</item>
/// <item>Silent reference and zero error (0/0): <see cref="ArgumentException"/>.</item>
/// <item>Non-finite samples (NaN, ±∞): <see cref="ArgumentException"/>.</item>
/// </list>
/// </remarks>
public static class SignalMetrics
{
    /// <summary>Default frame length of <see cref="SegmentalSnrDb"/> (32 ms at 16 kHz).</summary>
    public const int DefaultSegmentLength = 512;

    /// <summary>Lower clamp of each segment's SNR, in dB (the usual −10 dB of Hansen and Pellom, 1998).</summary>
    public const double DefaultSegmentMinDb = -10;

    /// <summary>Upper clamp of each segment's SNR, in dB (the usual 35 dB).</summary>
    public const double DefaultSegmentMaxDb = 35;

    /// <summary>Signal-to-noise ratio 10·log10(Σs² / Σ(s − ŝ)²), as the course assignment defines it.</summary>
    /// <param name="reference">The clean signal s.</param>
    /// <param name="estimate">The estimate ŝ, same length.</param>
    /// <returns>The SNR in dB; see the class remarks for edge cases.</returns>
    public static double SnrDb(ReadOnlySpan<float> reference, ReadOnlySpan<float> estimate)
    {
        CheckPair(reference, estimate);
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double s = reference[i];
            double e = s - estimate[i];
            signal += s * s;
            noise += e * e;
        }

        return RatioDb(signal, noise, "SNR");
    }

    /// <summary>
    /// Scale-invariant signal-to-distortion ratio (Le Roux et al., 2019): with α = ⟨ŝ, s⟩ / ‖s‖²,
    /// 10·log10(‖α s‖² / ‖ŝ − α s‖²). No mean removal (as the reference values were computed).
    /// </summary>
    /// <param name="reference">The clean signal s (must not be silent).</param>
    /// <param name="estimate">The estimate ŝ, same length.</param>
    /// <returns>The SI-SDR in dB; see the class remarks for edge cases.</returns>
    public static double SiSdrDb(ReadOnlySpan<float> reference, ReadOnlySpan<float> estimate)
    {
        CheckPair(reference, estimate);
        double ss = 0, se = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            ss += (double)reference[i] * reference[i];
            se += (double)reference[i] * estimate[i];
        }

        if (ss == 0)
        {
            throw new ArgumentException("SI-SDR is undefined for a silent reference (its energy is 0, so the optimal scale is 0/0).", nameof(reference));
        }

        double alpha = se / ss;
        double target = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double t = alpha * reference[i];
            double n = estimate[i] - t;
            target += t * t;
            noise += n * n;
        }

        // An estimate orthogonal to the reference has α = 0: no target energy, so −∞ dB.
        return target == 0 && noise == 0 ? double.NegativeInfinity : RatioDb(target, noise, "SI-SDR");
    }

    /// <summary>
    /// Segmental SNR: the mean over non-overlapping frames of each frame's SNR, clamped to
    /// [<paramref name="minDb"/>, <paramref name="maxDb"/>]. A frame with no error scores <paramref name="maxDb"/>, a
    /// silent reference frame with some error scores <paramref name="minDb"/>, and frames where both are silent are
    /// skipped; a trailing partial frame counts if it is at least half a frame long.
    /// </summary>
    /// <param name="reference">The clean signal.</param>
    /// <param name="estimate">The estimate, same length.</param>
    /// <param name="frameLength">Samples per frame.</param>
    /// <param name="minDb">Lower clamp per frame.</param>
    /// <param name="maxDb">Upper clamp per frame.</param>
    /// <returns>The segmental SNR in dB, within [minDb, maxDb].</returns>
    /// <exception cref="ArgumentException">Bad lengths or bounds, or every frame silent in both signals.</exception>
    public static double SegmentalSnrDb(
        ReadOnlySpan<float> reference,
        ReadOnlySpan<float> estimate,
        int frameLength = DefaultSegmentLength,
        double minDb = DefaultSegmentMinDb,
        double maxDb = DefaultSegmentMaxDb)
    {
        CheckPair(reference, estimate);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameLength, 1);
        if (!(minDb < maxDb))
        {
            throw new ArgumentException($"minDb must be below maxDb; found {minDb} and {maxDb}.", nameof(minDb));
        }

        double total = 0;
        int counted = 0;
        for (int start = 0; start < reference.Length; start += frameLength)
        {
            int length = Math.Min(frameLength, reference.Length - start);
            if (length * 2 < frameLength && start > 0)
            {
                break;
            }

            double signal = 0, noise = 0;
            for (int i = start; i < start + length; i++)
            {
                double s = reference[i];
                double e = s - estimate[i];
                signal += s * s;
                noise += e * e;
            }

            if (signal == 0 && noise == 0)
            {
                continue;
            }

            double db = noise == 0 ? maxDb : signal == 0 ? minDb : 10 * Math.Log10(signal / noise);
            total += Math.Clamp(db, minDb, maxDb);
            counted++;
        }

        if (counted == 0)
        {
            throw new ArgumentException("Segmental SNR is undefined: every frame is silent in both the reference and the error.", nameof(reference));
        }

        return total / counted;
    }

    internal static double RatioDb(double signal, double noise, string what)
    {
        if (noise == 0)
        {
            if (signal == 0)
            {
                throw new ArgumentException($"{what} is undefined when both the reference and the error are silent (0/0).");
            }

            return double.PositiveInfinity;
        }

        return signal == 0 ? double.NegativeInfinity : 10 * Math.Log10(signal / noise);
    }

    internal static void CheckPair(ReadOnlySpan<float> reference, ReadOnlySpan<float> estimate)
    {
        if (reference.Length != estimate.Length)
        {
            throw new ArgumentException(
                $"Reference and estimate must have the same length; found {reference.Length} and {estimate.Length} samples.", nameof(estimate));
        }

        if (reference.IsEmpty)
        {
            throw new ArgumentException("Reference and estimate are empty; a metric needs at least one sample.", nameof(reference));
        }

        CheckFinite(reference, nameof(reference));
        CheckFinite(estimate, nameof(estimate));
    }

    private static void CheckFinite(ReadOnlySpan<float> x, string name)
    {
        int i = SampleChecks.IndexOfNonFinite(x);
        if (i >= 0)
        {
            throw new ArgumentException($"Sample {i} of {name} is {x[i]}; metrics need finite samples.", name);
        }
    }
}
