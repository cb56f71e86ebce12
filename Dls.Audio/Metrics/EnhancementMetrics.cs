namespace Dls.Audio.Metrics;

/// <summary>
/// Input, output and improvement of each metric for one enhanced utterance, in dB — the habit of asteroid's
/// <c>get_metrics</c> (<c>input_snr</c>, <c>snr</c>, <c>snr_imp</c>, …).
/// </summary>
/// <param name="InputSnrDb">SNR of the noisy input against the clean reference.</param>
/// <param name="OutputSnrDb">SNR of the enhanced output.</param>
/// <param name="InputSiSdrDb">SI-SDR of the noisy input.</param>
/// <param name="OutputSiSdrDb">SI-SDR of the enhanced output.</param>
/// <param name="InputSegmentalSnrDb">Segmental SNR of the noisy input.</param>
/// <param name="OutputSegmentalSnrDb">Segmental SNR of the enhanced output.</param>
public sealed record EnhancementReport(
    double InputSnrDb,
    double OutputSnrDb,
    double InputSiSdrDb,
    double OutputSiSdrDb,
    double InputSegmentalSnrDb,
    double OutputSegmentalSnrDb)
{
    /// <summary>OutputSnrDb − InputSnrDb (0 when both are the same infinity).</summary>
    public double SnrImprovementDb => Improvement(InputSnrDb, OutputSnrDb);

    /// <summary>OutputSiSdrDb − InputSiSdrDb (0 when both are the same infinity).</summary>
    public double SiSdrImprovementDb => Improvement(InputSiSdrDb, OutputSiSdrDb);

    /// <summary>OutputSegmentalSnrDb − InputSegmentalSnrDb.</summary>
    public double SegmentalSnrImprovementDb => Improvement(InputSegmentalSnrDb, OutputSegmentalSnrDb);

    /// <summary>The values under asteroid's names: <c>input_snr</c>, <c>snr</c>, <c>snr_imp</c>, <c>input_si_sdr</c>,
    /// <c>si_sdr</c>, <c>si_sdr_imp</c>, <c>input_seg_snr</c>, <c>seg_snr</c>, <c>seg_snr_imp</c>.</summary>
    /// <returns>A new read-only dictionary.</returns>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["input_snr"] = InputSnrDb,
        ["snr"] = OutputSnrDb,
        ["snr_imp"] = SnrImprovementDb,
        ["input_si_sdr"] = InputSiSdrDb,
        ["si_sdr"] = OutputSiSdrDb,
        ["si_sdr_imp"] = SiSdrImprovementDb,
        ["input_seg_snr"] = InputSegmentalSnrDb,
        ["seg_snr"] = OutputSegmentalSnrDb,
        ["seg_snr_imp"] = SegmentalSnrImprovementDb,
    };

    private static double Improvement(double input, double output) =>
        input == output ? 0 : output - input; // ∞ − ∞ would be NaN: unchanged perfection is no improvement
}

/// <summary>Computes an <see cref="EnhancementReport"/> from clean, noisy and enhanced signals.</summary>
public static class EnhancementMetrics
{
    /// <summary>Evaluates one enhanced utterance against its clean reference and noisy input.</summary>
    /// <param name="clean">The clean reference.</param>
    /// <param name="noisy">The noisy input, same length.</param>
    /// <param name="enhanced">The enhanced output, same length.</param>
    /// <returns>Input, output and improvement of SNR, SI-SDR and segmental SNR.</returns>
    /// <exception cref="ArgumentException">Lengths differ, inputs are empty or non-finite, or the reference is silent.</exception>
    public static EnhancementReport Evaluate(ReadOnlySpan<float> clean, ReadOnlySpan<float> noisy, ReadOnlySpan<float> enhanced)
    {
        if (clean.Length != noisy.Length || clean.Length != enhanced.Length)
        {
            throw new ArgumentException(
                $"Clean, noisy and enhanced must have the same length; found {clean.Length}, {noisy.Length} and {enhanced.Length} samples.");
        }

        return new EnhancementReport(
            SignalMetrics.SnrDb(clean, noisy),
            SignalMetrics.SnrDb(clean, enhanced),
            SignalMetrics.SiSdrDb(clean, noisy),
            SignalMetrics.SiSdrDb(clean, enhanced),
            SignalMetrics.SegmentalSnrDb(clean, noisy),
            SignalMetrics.SegmentalSnrDb(clean, enhanced));
    }
}
