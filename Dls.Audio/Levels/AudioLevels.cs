namespace Dls.Audio.Levels;

/// <summary>
/// Levels in dB relative to full scale (dBFS, full scale = 1.0) and gain changes. Peak level is 20·log10(max |x|);
/// RMS level is 20·log10(√(mean x²)) without the +3.01 dB sine correction of AES17, so a full-scale sine has a
/// peak of 0 dBFS and an RMS of −3.01 dBFS. Silence is −∞ dBFS.
/// </summary>
public static class AudioLevels
{
    /// <summary>Converts decibels to a linear amplitude gain, 10^(dB/20).</summary>
    /// <param name="decibels">The gain in dB.</param>
    /// <returns>The amplitude factor.</returns>
    public static double DbToGain(double decibels) => Math.Pow(10, decibels / 20);

    /// <summary>Converts a linear amplitude gain to decibels, 20·log10(gain) (−∞ for 0).</summary>
    /// <param name="gain">A non-negative amplitude factor.</param>
    /// <returns>The gain in dB.</returns>
    public static double GainToDb(double gain)
    {
        if (!(gain >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(gain), gain, "An amplitude gain must be zero or positive.");
        }

        return 20 * Math.Log10(gain);
    }

    /// <summary>The largest absolute sample value.</summary>
    /// <param name="samples">The signal (finite samples).</param>
    /// <returns>max |x| (0 for an empty signal).</returns>
    /// <exception cref="ArgumentException">A sample is NaN or ±∞ (the message gives its index).</exception>
    public static double Peak(ReadOnlySpan<float> samples)
    {
        float peak = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            float v = samples[i];
            if (!float.IsFinite(v))
            {
                throw NonFinite(v, i, samples.Length);
            }

            peak = MathF.Max(peak, MathF.Abs(v));
        }

        return peak;
    }

    /// <summary>The root-mean-square value (double accumulation).</summary>
    /// <param name="samples">The signal (non-empty, finite samples).</param>
    /// <returns>√(mean x²).</returns>
    /// <exception cref="ArgumentException">The signal is empty, or a sample is NaN or ±∞ (the message gives its index).</exception>
    public static double Rms(ReadOnlySpan<float> samples)
    {
        if (samples.IsEmpty)
        {
            throw new ArgumentException("The RMS of an empty signal is undefined; found 0 samples.", nameof(samples));
        }

        double sum = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            float v = samples[i];
            if (!float.IsFinite(v))
            {
                throw NonFinite(v, i, samples.Length);
            }

            sum += (double)v * v;
        }

        return Math.Sqrt(sum / samples.Length);
    }

    /// <summary>The peak level in dBFS (−∞ for silence).</summary>
    /// <param name="samples">The signal (finite samples).</param>
    /// <returns>20·log10(max |x|).</returns>
    /// <exception cref="ArgumentException">A sample is NaN or ±∞.</exception>
    public static double PeakDbfs(ReadOnlySpan<float> samples) => 20 * Math.Log10(Peak(samples));

    /// <summary>The RMS level in dBFS (−∞ for silence).</summary>
    /// <param name="samples">The signal (non-empty, finite samples).</param>
    /// <returns>20·log10(RMS).</returns>
    /// <exception cref="ArgumentException">The signal is empty, or a sample is NaN or ±∞.</exception>
    public static double RmsDbfs(ReadOnlySpan<float> samples) => 20 * Math.Log10(Rms(samples));

    /// <summary>Scales the signal so that its peak is <paramref name="targetDbfs"/>.</summary>
    /// <param name="samples">The signal (not silent, finite samples).</param>
    /// <param name="targetDbfs">The peak level wanted, e.g. −1 dBFS (finite).</param>
    /// <returns>A new, scaled array.</returns>
    /// <exception cref="ArgumentException">The signal is silent, so no gain reaches the target; or a sample is NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetDbfs"/> is not finite.</exception>
    public static float[] NormalizePeak(ReadOnlySpan<float> samples, double targetDbfs = -1.0)
    {
        CheckTarget(targetDbfs);
        double peak = Peak(samples);
        if (peak == 0)
        {
            throw new ArgumentException("Cannot peak-normalize a silent signal (its peak is 0).", nameof(samples));
        }

        return Scale(samples, DbToGain(targetDbfs) / peak);
    }

    /// <summary>Scales the signal so that its RMS level is <paramref name="targetDbfs"/>; peaks may exceed 1.</summary>
    /// <param name="samples">The signal (not silent, finite samples).</param>
    /// <param name="targetDbfs">The RMS level wanted, e.g. −20 dBFS (finite).</param>
    /// <returns>A new, scaled array.</returns>
    /// <exception cref="ArgumentException">The signal is empty or silent, or a sample is NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetDbfs"/> is not finite.</exception>
    public static float[] NormalizeRms(ReadOnlySpan<float> samples, double targetDbfs = -20.0)
    {
        CheckTarget(targetDbfs);
        double rms = Rms(samples);
        if (rms == 0)
        {
            throw new ArgumentException("Cannot RMS-normalize a silent signal (its RMS is 0).", nameof(samples));
        }

        return Scale(samples, DbToGain(targetDbfs) / rms);
    }

    /// <summary>Multiplies every sample by <paramref name="gain"/>.</summary>
    /// <param name="samples">The signal (finite samples).</param>
    /// <param name="gain">The amplitude factor (finite in float32, and small enough that no scaled sample overflows).</param>
    /// <returns>A new array.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gain"/> is NaN or ±∞ in float32, or takes a sample
    /// beyond float32's range (the message gives its index).</exception>
    /// <exception cref="ArgumentException">A sample is NaN or ±∞ (the message gives its index).</exception>
    public static float[] Scale(ReadOnlySpan<float> samples, double gain)
    {
        float g = (float)gain;
        if (!float.IsFinite(g))
        {
            throw new ArgumentOutOfRangeException(nameof(gain), gain, $"The gain must be a finite float32 amplitude factor; found {gain}.");
        }

        var result = new float[samples.Length];
        for (int i = 0; i < result.Length; i++)
        {
            float v = samples[i];
            if (!float.IsFinite(v))
            {
                throw NonFinite(v, i, samples.Length);
            }

            result[i] = v * g;
            if (!float.IsFinite(result[i]))
            {
                // Finite gain and samples can still overflow together; an ∞ here would go on to poison every level measured.
                throw new ArgumentOutOfRangeException(nameof(gain), gain,
                    $"Scaling by {g} takes sample {v} at index {i} of {samples.Length} to {(double)v * g:G4}, beyond float32's largest value {float.MaxValue:G4}.");
            }
        }

        return result;
    }

    private static void CheckTarget(double targetDbfs)
    {
        if (!double.IsFinite(targetDbfs))
        {
            throw new ArgumentOutOfRangeException(nameof(targetDbfs), targetDbfs, $"The target level must be a finite number of dBFS; found {targetDbfs}.");
        }
    }

    // A NaN or ∞ would otherwise turn the measured level, and through it every output sample, into NaN without a word.
    private static ArgumentException NonFinite(float value, int index, int length) =>
        new($"Expected finite samples; found {value} at index {index} of {length}.", "samples");
}
