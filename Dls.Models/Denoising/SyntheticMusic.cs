namespace Dls.Models.Denoising;

/// <summary>
/// Music-like noise made on the spot: one to three voices playing notes of a random scale, each note a harmonic tone
/// (random timbre, a fast attack and an exponential decay, a little vibrato), all band-limited to a random cut-off
/// between 3.5 and 8 kHz, optionally with percussive noise bursts on the beat. It stands for music recordings, of which
/// a training corpus rarely has more than a few, so a network learns "tonal, rhythmic, non-speech" rather than the
/// few tracks it was given.
/// </summary>
internal static class SyntheticMusic
{
    // Semitone offsets of a major and a natural minor scale (two octaves are drawn from them).
    private static readonly int[][] Scales = [[0, 2, 4, 5, 7, 9, 11], [0, 2, 3, 5, 7, 8, 10]];

    /// <summary>Makes <paramref name="length"/> samples at <paramref name="sampleRate"/> Hz (not normalised).</summary>
    public static float[] Make(Random rng, int length, int sampleRate)
    {
        var output = new double[length];
        int[] scale = Scales[rng.Next(Scales.Length)];
        double root = 110 * Math.Pow(2, rng.Next(12) / 12.0);
        double cutoff = 3500 + (rng.NextDouble() * 4500);
        double beat = 0.12 + (rng.NextDouble() * 0.38);
        int voices = rng.Next(1, 4);
        bool played = false;
        for (int v = 0; v < voices; v++)
        {
            // Each voice has its own register, timbre (harmonic roll-off) and note length in beats.
            int octave = rng.Next(0, 3);
            double rolloff = 0.6 + (rng.NextDouble() * 1.6);
            double decay = 0.08 + (rng.NextDouble() * 0.6);
            int beatsPerNote = rng.Next(1, 4);
            double level = 0.4 + (rng.NextDouble() * 0.6);
            int noteSamples = Math.Max(1, (int)(beat * beatsPerNote * sampleRate));
            for (int start = -rng.Next(noteSamples); start < length; start += noteSamples)
            {
                // A rest, except that the first voice always plays its first note (the result is never silent).
                if (rng.NextDouble() < 0.15 && (played || v > 0))
                {
                    continue;
                }

                played = true;
                int degree = rng.Next(scale.Length * 2);
                double f0 = root * Math.Pow(2, octave + (degree / scale.Length) + (scale[degree % scale.Length] / 12.0));
                AddNote(output, rng, start, (int)(noteSamples * 1.5), f0, rolloff, decay, level, cutoff, sampleRate);
            }
        }

        if (rng.NextDouble() < 0.5)
        {
            AddPercussion(output, rng, beat, cutoff, sampleRate);
        }

        return output.Select(x => (float)x).ToArray();
    }

    private static void AddNote(double[] output, Random rng, int start, int duration, double f0, double rolloff, double decay, double level, double cutoff, int sampleRate)
    {
        int harmonics = (int)Math.Min(20, Math.Floor(cutoff / f0));
        if (harmonics < 1)
        {
            return;
        }

        // sin(kθ + φ_k) = sin(kθ)·cos φ_k + cos(kθ)·sin φ_k, with sin(kθ), cos(kθ) from the angle-addition recurrence:
        // two trigonometric calls per sample instead of one per harmonic.
        var sinPhase = new double[harmonics];
        var cosPhase = new double[harmonics];
        for (int k = 0; k < harmonics; k++)
        {
            // Random ±50 % per harmonic on top of the roll-off, so no two notes have quite the same spectrum.
            double amplitude = level * Math.Pow(k + 1, -rolloff) * (0.5 + rng.NextDouble());
            double phase = rng.NextDouble() * 2 * Math.PI;
            sinPhase[k] = amplitude * Math.Cos(phase);
            cosPhase[k] = amplitude * Math.Sin(phase);
        }

        double attack = (0.003 + (rng.NextDouble() * 0.03)) * sampleRate;
        double vibratoRate = 4 + (rng.NextDouble() * 3), vibratoDepth = rng.NextDouble() * 0.006;
        double theta = 0;
        for (int i = Math.Max(0, -start); i < duration && start + i < output.Length; i++)
        {
            double t = (double)i / sampleRate;
            double envelope = Math.Min(1, i / attack) * Math.Exp(-t / decay);
            theta += 2 * Math.PI * f0 * (1 + (vibratoDepth * Math.Sin(2 * Math.PI * vibratoRate * t))) / sampleRate;
            double s1 = Math.Sin(theta), c1 = Math.Cos(theta);
            double sk = s1, ck = c1, sum = 0;
            for (int k = 0; k < harmonics; k++)
            {
                sum += (sk * sinPhase[k]) + (ck * cosPhase[k]);
                (sk, ck) = ((sk * c1) + (ck * s1), (ck * c1) - (sk * s1));
            }

            output[start + i] += envelope * sum;
        }
    }

    private static void AddPercussion(double[] output, Random rng, double beat, double cutoff, int sampleRate)
    {
        // Noise bursts through a one-pole low-pass at the band limit, decaying in 20–80 ms.
        double a = Math.Exp(-2 * Math.PI * cutoff / sampleRate);
        double level = 0.2 + (rng.NextDouble() * 0.5);
        int step = Math.Max(1, (int)(beat * sampleRate));
        for (int start = rng.Next(step); start < output.Length; start += step)
        {
            double tau = (0.02 + (rng.NextDouble() * 0.06)) * sampleRate;
            double y = 0;
            for (int i = 0; i < 4 * tau && start + i < output.Length; i++)
            {
                y = ((1 - a) * ((rng.NextDouble() * 2) - 1)) + (a * y);
                output[start + i] += level * Math.Exp(-i / tau) * y * 4;
            }
        }
    }
}
