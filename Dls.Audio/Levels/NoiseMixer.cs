namespace Dls.Audio.Levels;

/// <summary>The result of <see cref="NoiseMixer.MixAtSnr"/>.</summary>
/// <param name="Mixture">speech + NoiseGain × noise, as long as the speech.</param>
/// <param name="NoiseGain">The amplitude factor applied to the noise.</param>
/// <param name="ScaledNoise">NoiseGain × noise (the exact noise in the mixture), as long as the speech.</param>
public sealed record NoisyMixture(float[] Mixture, double NoiseGain, float[] ScaledNoise);

/// <summary>Mixes speech and noise at a chosen signal-to-noise ratio, as noisy training data is made.</summary>
public static class NoiseMixer
{
    /// <summary>
    /// Adds noise to speech so that 10·log10(Σ speech² / Σ (gain·noise)²) = <paramref name="snrDb"/>. The noise is
    /// read from <paramref name="noiseOffset"/> and repeated from its start if it is shorter than the speech.
    /// </summary>
    /// <param name="speech">The clean speech.</param>
    /// <param name="noise">The noise (any length ≥ 1).</param>
    /// <param name="snrDb">The SNR wanted, in dB (finite).</param>
    /// <param name="noiseOffset">Where to start in the noise (samples).</param>
    /// <returns>The mixture, the gain applied to the noise and the scaled noise.</returns>
    /// <exception cref="ArgumentException">Empty or silent inputs, a NaN or ±∞ sample in the speech or the noise used (the
    /// message gives its index), a non-finite SNR, or a bad offset.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="snrDb"/> lies outside the range float32 can hold for
    /// these signals (the message gives it): below it the noise or the mixture would overflow to ±∞, above it the loudest
    /// scaled noise sample would fall below float32's smallest normal value (1.2e-38), losing precision down to 0.</exception>
    public static NoisyMixture MixAtSnr(ReadOnlySpan<float> speech, ReadOnlySpan<float> noise, double snrDb, int noiseOffset = 0)
    {
        if (speech.IsEmpty || noise.IsEmpty)
        {
            throw new ArgumentException($"Speech and noise must be non-empty; found {speech.Length} and {noise.Length} samples.");
        }

        if (!double.IsFinite(snrDb))
        {
            throw new ArgumentOutOfRangeException(nameof(snrDb), snrDb, "The target SNR must be a finite number of dB.");
        }

        if ((uint)noiseOffset >= (uint)noise.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(noiseOffset), noiseOffset, $"The noise offset must be in 0..{noise.Length - 1}.");
        }

        // One NaN would make the gain, and so every mixture sample, NaN. The speech is checked here, the noise while its
        // segment is copied (the index then points into the noise as given).
        int badSpeech = SampleChecks.IndexOfNonFinite(speech);
        if (badSpeech >= 0)
        {
            throw new ArgumentException($"Expected finite speech samples; found {speech[badSpeech]} at index {badSpeech} of {speech.Length}.", nameof(speech));
        }

        var segment = new float[speech.Length];
        for (int i = 0, j = noiseOffset; i < segment.Length; i++, j++)
        {
            if (j == noise.Length)
            {
                j = 0;
            }

            if (!float.IsFinite(noise[j]))
            {
                throw new ArgumentException($"Expected finite noise samples; found {noise[j]} at index {j} of {noise.Length}.", nameof(noise));
            }

            segment[i] = noise[j];
        }

        double speechEnergy = Energy(speech);
        double noiseEnergy = Energy(segment);
        if (speechEnergy == 0)
        {
            throw new ArgumentException("The speech is silent, so no noise level gives a finite SNR.", nameof(speech));
        }

        if (noiseEnergy == 0)
        {
            throw new ArgumentException("The noise segment used is silent, so no gain reaches the target SNR.", nameof(noise));
        }

        // gain = √(Es / En) · 10^(−SNR/20). The range check works in dB so that no 10^(SNR/10) is formed: that power
        // overflows double beyond ±3083 dB, which would make the gain 0 or ∞ before any check could see it.
        double unitGain = Math.Sqrt(speechEnergy / noiseEnergy);
        double noisePeak = Peak(segment);
        double speechPeak = Peak(speech);
        double lowestSnr = 20 * Math.Log10(unitGain * noisePeak / ((double)float.MaxValue - speechPeak));
        double highestSnr = 20 * Math.Log10(unitGain * noisePeak / SmallestNormalFloat);
        if (!(snrDb >= lowestSnr && snrDb <= highestSnr))
        {
            throw new ArgumentOutOfRangeException(nameof(snrDb), snrDb,
                $"For these signals the target SNR must be within [{lowestSnr:F2}, {highestSnr:F2}] dB: lower targets overflow float32 " +
                $"(speech peak {speechPeak:G4} + scaled noise peak ≤ {float.MaxValue:G4}), higher ones push the loudest noise sample below " +
                $"float32's smallest normal value {SmallestNormalFloat:G4}; found {snrDb} dB.");
        }

        double gain = unitGain * Math.Pow(10, -snrDb / 20);
        var scaled = new float[speech.Length];
        var mixture = new float[speech.Length];
        for (int i = 0; i < mixture.Length; i++)
        {
            scaled[i] = (float)(gain * segment[i]);
            mixture[i] = speech[i] + scaled[i];
        }

        return new NoisyMixture(mixture, gain, scaled);
    }

    // 2^−126: below it float32 loses a bit of precision with every halving until the value flushes to 0.
    private const double SmallestNormalFloat = 1.1754943508222875e-38;

    private static double Peak(ReadOnlySpan<float> x)
    {
        float peak = 0;
        foreach (float v in x)
        {
            peak = MathF.Max(peak, MathF.Abs(v));
        }

        return peak;
    }

    private static double Energy(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return sum;
    }
}
