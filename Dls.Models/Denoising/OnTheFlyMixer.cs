using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Levels;

namespace Dls.Models.Denoising;

/// <summary>
/// Makes noisy/clean examples on the fly: a random clean utterance plus a random segment of a random noise
/// source, scaled to an SNR drawn uniformly from [<see cref="MinSnrDb"/>, <see cref="MaxSnrDb"/>]
/// (SNR = 10·log10(Σs²/Σn²), the definition of the shared corpus). Deterministic for a given <see cref="Random"/>.
/// </summary>
public sealed class OnTheFlyMixer
{
    /// <summary>Most consecutive silent excerpts <see cref="Mix"/> draws before it gives up.</summary>
    private const int MaxSilentDraws = 1000;

    private readonly float[][] _clean;
    private readonly float[][] _noise;
    private readonly double _babbleProbability;
    private readonly double _musicProbability;
    private readonly int _sampleRate = 16000;

    /// <summary>Creates a mixer over utterances and noise sources already in memory (one sample rate).</summary>
    /// <param name="clean">Clean utterances (at least one; none null, empty or silent; finite samples).</param>
    /// <param name="noise">Noise sources (at least one; none null, empty or silent; finite samples); shorter than an utterance is looped.</param>
    /// <param name="minSnrDb">Lowest SNR in dB.</param>
    /// <param name="maxSnrDb">Highest SNR in dB (≥ <paramref name="minSnrDb"/>).</param>
    /// <exception cref="ArgumentException">
    /// A pool is empty, holds a null, empty or silent (all-zero) signal or a non-finite sample (the message says which), or the SNR range is not finite and ordered.
    /// </exception>
    public OnTheFlyMixer(IReadOnlyList<float[]> clean, IReadOnlyList<float[]> noise, double minSnrDb = -5, double maxSnrDb = 10)
    {
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(noise);
        CheckPool(clean, "clean utterance", nameof(clean));
        CheckPool(noise, "noise source", nameof(noise));

        if (!double.IsFinite(minSnrDb) || !double.IsFinite(maxSnrDb) || minSnrDb > maxSnrDb)
        {
            throw new ArgumentException($"Expected finite minSnrDb ≤ maxSnrDb; found [{minSnrDb}, {maxSnrDb}].", nameof(minSnrDb));
        }

        _clean = [.. clean];
        _noise = [.. noise];
        MinSnrDb = minSnrDb;
        MaxSnrDb = maxSnrDb;
    }

    /// <summary>Lowest SNR in dB.</summary>
    public double MinSnrDb { get; }

    /// <summary>Highest SNR in dB.</summary>
    public double MaxSnrDb { get; }

    /// <summary>
    /// When true, every noise excerpt is also read at a random speed in [0.8, 1.25] (linear interpolation; shifts
    /// hum harmonics, music pitch and babble formants) and given a random spectral tilt (first-order filter
    /// <c>y[n] = x[n] + a·x[n−1]</c>, <c>a</c> in [−0.9, 0.9]), so that a few noise sources stand for many.
    /// </summary>
    public bool AugmentNoise { get; init; }

    /// <summary>
    /// When true, every clean utterance is also read at a random speed in [0.87, 1.15] (linear interpolation), which
    /// moves its pitch and formants together — a new voice for every example, from a corpus with few speakers.
    /// </summary>
    public bool AugmentSpeech { get; init; }

    /// <summary>
    /// Probability in [0, 1] that the noise of an example is babble made on the spot: the sum of 3–6 random excerpts of
    /// other clean utterances of the pool (so babble never needs a recording, and its talkers vary endlessly).
    /// </summary>
    public double BabbleProbability
    {
        get => _babbleProbability;
        init => _babbleProbability = CheckProbability(value, nameof(BabbleProbability));
    }

    /// <summary>
    /// Probability in [0, 1] that the noise of an example is synthetic music made on the spot (notes of random scales
    /// with random timbres, band-limited to 3.5–8 kHz, sometimes with percussion), so that a handful of music
    /// recordings is not all the network ever hears of music. Drawn after babble: with both set, babble wins first.
    /// </summary>
    public double MusicProbability
    {
        get => _musicProbability;
        init => _musicProbability = CheckProbability(value, nameof(MusicProbability));
    }

    private static double CheckProbability(double value, string name) =>
        value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"Expected a probability in [0, 1]; found {value}.");

    /// <summary>The rate of the pools in Hz, used only to make synthetic music at the right pitch. Default 16000.</summary>
    public int SampleRate
    {
        get => _sampleRate;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(SampleRate));
            _sampleRate = value;
        }
    }

    /// <summary>A mixer over the same pools with the given augmentation settings.</summary>
    /// <param name="augmentNoise">See <see cref="AugmentNoise"/>.</param>
    /// <param name="babbleProbability">See <see cref="BabbleProbability"/>.</param>
    /// <param name="musicProbability">See <see cref="MusicProbability"/>.</param>
    /// <param name="sampleRate">See <see cref="SampleRate"/>; null keeps this mixer's.</param>
    /// <param name="augmentSpeech">See <see cref="AugmentSpeech"/>.</param>
    /// <returns>The new mixer.</returns>
    public OnTheFlyMixer WithAugmentation(bool augmentNoise, double babbleProbability, double musicProbability = 0, int? sampleRate = null, bool augmentSpeech = false) =>
        new(_clean, _noise, MinSnrDb, MaxSnrDb)
        {
            AugmentNoise = augmentNoise,
            AugmentSpeech = augmentSpeech,
            BabbleProbability = babbleProbability,
            MusicProbability = musicProbability,
            SampleRate = sampleRate ?? SampleRate,
        };

    /// <summary>A mixer over these pools plus more utterances and noise sources (same rate), with the same settings.</summary>
    /// <param name="clean">More clean utterances (none null, empty or silent; finite samples).</param>
    /// <param name="noise">More noise sources (none null, empty or silent; finite samples).</param>
    /// <returns>The new mixer.</returns>
    public OnTheFlyMixer WithMore(IReadOnlyList<float[]> clean, IReadOnlyList<float[]> noise)
    {
        ArgumentNullException.ThrowIfNull(clean);
        ArgumentNullException.ThrowIfNull(noise);
        return new OnTheFlyMixer([.. _clean, .. clean], [.. _noise, .. noise], MinSnrDb, MaxSnrDb)
        {
            AugmentNoise = AugmentNoise,
            AugmentSpeech = AugmentSpeech,
            BabbleProbability = BabbleProbability,
            MusicProbability = MusicProbability,
            SampleRate = SampleRate,
        };
    }

    /// <summary>Number of clean utterances.</summary>
    public int CleanCount => _clean.Length;

    /// <summary>Number of noise sources.</summary>
    public int NoiseCount => _noise.Length;

    /// <summary>Total seconds of clean speech, at <paramref name="sampleRate"/>.</summary>
    /// <param name="sampleRate">The rate the utterances are at, in Hz (&gt; 0).</param>
    /// <returns>Seconds.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleRate"/> is not positive.</exception>
    public double CleanSeconds(int sampleRate)
    {
        // A rate ≤ 0 would give ∞ or a negative duration without any error.
        if (sampleRate <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, $"Expected a sample rate > 0 Hz; found {sampleRate}.");
        }

        return _clean.Sum(c => (double)c.Length) / sampleRate;
    }

    /// <summary>
    /// Loads every WAV of <paramref name="cleanDirectory"/> (recursively) as speech and every WAV of
    /// <paramref name="noiseDirectory"/> as noise, at <paramref name="sampleRate"/>.
    /// </summary>
    /// <param name="cleanDirectory">Folder of clean utterances.</param>
    /// <param name="noiseDirectory">Folder of noise sources.</param>
    /// <param name="sampleRate">Rate in Hz to load at.</param>
    /// <param name="minSnrDb">Lowest SNR in dB.</param>
    /// <param name="maxSnrDb">Highest SNR in dB.</param>
    /// <returns>The mixer, its <see cref="SampleRate"/> set to <paramref name="sampleRate"/> (the rate of its pools).</returns>
    /// <exception cref="InvalidDataException">A folder holds no WAV file, or a file is empty, silent or has a non-finite sample (named).</exception>
    public static OnTheFlyMixer FromFolders(string cleanDirectory, string noiseDirectory, int sampleRate, double minSnrDb = -5, double maxSnrDb = 10)
    {
        return new OnTheFlyMixer(LoadFolder(cleanDirectory, sampleRate, "clean"), LoadFolder(noiseDirectory, sampleRate, "noise"), minSnrDb, maxSnrDb)
        {
            SampleRate = sampleRate,
        };
    }

    /// <summary>
    /// Uses the clean and noise files of a homework-layout dataset as the two pools, so that the pairs are re-mixed
    /// with other noises and SNRs (augmentation that never leaves the dataset).
    /// </summary>
    /// <param name="examples">Examples with known noise.</param>
    /// <param name="minSnrDb">Lowest SNR in dB.</param>
    /// <param name="maxSnrDb">Highest SNR in dB.</param>
    /// <returns>The mixer.</returns>
    /// <exception cref="ArgumentException">An example is null (index named), no example has a noise, or one has a silent or non-finite clean or noise signal (named).</exception>
    public static OnTheFlyMixer FromExamples(IReadOnlyList<DenoisingExample> examples, double minSnrDb = -5, double maxSnrDb = 10)
    {
        ArgumentNullException.ThrowIfNull(examples);
        for (int i = 0; i < examples.Count; i++)
        {
            if (examples[i] is null)
            {
                throw new ArgumentException($"Expected examples; found null at index {i} (of {examples.Count}).", nameof(examples));
            }
        }

        var withNoise = examples.Where(e => e.Noise is not null).ToArray();
        if (withNoise.Length == 0)
        {
            throw new ArgumentException($"Re-mixing needs examples whose noise is known (homework layout); found {examples.Count} example(s), none with noise.", nameof(examples));
        }

        // Checked here, where the examples' names are known (the pools below only know positions).
        foreach (DenoisingExample e in withNoise)
        {
            foreach ((string part, float[] signal) in new[] { ("clean", e.Clean), ("noise", e.Noise!) })
            {
                (int bad, bool silent) = Inspect(signal);
                if (bad >= 0 || silent)
                {
                    throw new ArgumentException(
                        $"Example '{e.Name}': its {part} signal {(bad >= 0 ? $"has {signal[bad]} at sample {bad}" : "is silent")}; re-mixing needs finite, non-silent clean and noise signals.",
                        nameof(examples));
                }
            }
        }

        return new OnTheFlyMixer(withNoise.Select(e => e.Clean).ToArray(), withNoise.Select(e => e.Noise!).ToArray(), minSnrDb, maxSnrDb);
    }

    /// <summary>Makes one example.</summary>
    /// <param name="rng">The random source (the only source of randomness).</param>
    /// <param name="maxSamples">When positive, a random excerpt of at most this many samples of the utterance is used;
    /// 0 (the default) uses the whole utterance. Negative values are refused.</param>
    /// <returns>The example; <c>Noisy == Clean + Noise</c> exactly.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSamples"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">
    /// 1000 draws in a row gave a silent clean or noise excerpt (pools that are almost entirely silence).
    /// </exception>
    public DenoisingExample Mix(Random rng, int maxSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        // Checked before any draw, so valid calls draw exactly as before; a negative limit would silently mean the whole
        // utterance, which 0 asks for explicitly.
        if (maxSamples < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, $"Expected maxSamples ≥ 0 (0 = the whole utterance); found {maxSamples}.");
        }

        // No SNR is defined for a silent excerpt: draw again. The pools hold no all-silent signal (checked at construction),
        // so a redraw almost always succeeds; the bound turns pools of near-total silence into an error, not a hang.
        for (int draw = 0; draw < MaxSilentDraws; draw++)
        {
            if (TryMix(rng, maxSamples) is { } example)
            {
                return example;
            }
        }

        throw new InvalidOperationException(
            $"{MaxSilentDraws} draws in a row gave a silent clean or noise excerpt (maxSamples = {maxSamples}); expected pools of mostly non-silent audio " +
            $"({_clean.Length} clean utterance(s), {_noise.Length} noise source(s)).");
    }

    private DenoisingExample? TryMix(Random rng, int maxSamples)
    {
        float[] utterance = _clean[rng.Next(_clean.Length)];
        if (AugmentSpeech)
        {
            utterance = Stretch(utterance, Math.Exp(Math.Log(0.87) + (rng.NextDouble() * (Math.Log(1.15) - Math.Log(0.87)))));
        }
        int length = maxSamples > 0 ? Math.Min(maxSamples, utterance.Length) : utterance.Length;
        int cleanStart = rng.Next(utterance.Length - length + 1);
        float[] source = BabbleProbability > 0 && rng.NextDouble() < BabbleProbability ? Babble(rng, length)
            : MusicProbability > 0 && rng.NextDouble() < MusicProbability ? SyntheticMusic.Make(rng, length + (length / 2), SampleRate)
            : _noise[rng.Next(_noise.Length)];
        int noiseStart = rng.Next(source.Length);
        double snrDb = MinSnrDb + (rng.NextDouble() * (MaxSnrDb - MinSnrDb));

        var clean = new float[length];
        var noise = new float[length];
        Array.Copy(utterance, cleanStart, clean, 0, length);
        if (AugmentNoise)
        {
            double speed = Math.Exp(Math.Log(0.8) + (rng.NextDouble() * (Math.Log(1.25) - Math.Log(0.8))));
            double tilt = (rng.NextDouble() * 1.8) - 0.9;
            float previous = 0;
            for (int i = 0; i < length; i++)
            {
                double position = noiseStart + (i * speed);
                long k = (long)position;
                double frac = position - k;
                float x = (float)(((1 - frac) * source[k % source.Length]) + (frac * source[(k + 1) % source.Length]));
                noise[i] = x + (float)(tilt * previous);
                previous = x;
            }
        }
        else
        {
            for (int i = 0; i < length; i++)
            {
                noise[i] = source[(noiseStart + i) % source.Length];
            }
        }

        if (clean.All(x => x == 0) || noise.All(x => x == 0))
        {
            return null;
        }

        NoisyMixture mixed = NoiseMixer.MixAtSnr(clean, noise, snrDb);
        noise = mixed.ScaledNoise;
        var noisy = new float[length];
        float peak = 0;
        for (int i = 0; i < length; i++)
        {
            peak = Math.Max(peak, Math.Max(Math.Abs(mixed.Mixture[i]), Math.Max(Math.Abs(clean[i]), Math.Abs(noise[i]))));
        }

        // Like the shared corpus: the largest peak becomes a random level in [0.5, 0.95], so nothing clips
        // and the network sees the level spread it will meet.
        float scale = peak > 0 ? (float)((0.5 + (0.45 * rng.NextDouble())) / peak) : 1f;
        for (int i = 0; i < length; i++)
        {
            clean[i] *= scale;
            noise[i] *= scale;
            noisy[i] = clean[i] + noise[i];
        }

        return new DenoisingExample($"mix{rng.Next():x8}", noisy, clean, noise);
    }

    /// <summary>Reads <paramref name="x"/> at <paramref name="speed"/> × its rate (linear interpolation).</summary>
    private static float[] Stretch(float[] x, double speed)
    {
        int length = Math.Max(1, (int)((x.Length - 1) / speed));
        var y = new float[length];
        for (int i = 0; i < length; i++)
        {
            double position = i * speed;
            int k = (int)position;
            double frac = position - k;
            y[i] = k + 1 < x.Length ? (float)(((1 - frac) * x[k]) + (frac * x[k + 1])) : x[^1];
        }

        return y;
    }

    private float[] Babble(Random rng, int length)
    {
        var babble = new float[length];
        int talkers = rng.Next(3, 7);
        for (int t = 0; t < talkers; t++)
        {
            float[] u = _clean[rng.Next(_clean.Length)];
            int offset = rng.Next(u.Length);
            for (int i = 0; i < length; i++)
            {
                babble[i] += u[(offset + i) % u.Length];
            }
        }

        return babble;
    }

    /// <summary>
    /// Throws unless <paramref name="pool"/> has at least one signal and every signal is non-null, non-empty, finite and
    /// not all zero (an all-zero utterance has no SNR; a pool of them made <see cref="Mix"/> redraw for ever).
    /// </summary>
    private static void CheckPool(IReadOnlyList<float[]> pool, string what, string paramName)
    {
        var nulls = new List<int>();
        var empty = new List<int>();
        var silent = new List<int>();
        for (int i = 0; i < pool.Count; i++)
        {
            float[]? signal = pool[i];
            if (signal is null)
            {
                nulls.Add(i);
                continue;
            }

            (int bad, bool allZero) = Inspect(signal);
            if (bad >= 0)
            {
                throw new ArgumentException($"Expected finite samples; {what} {i} has {signal[bad]} at sample {bad}.", paramName);
            }

            if (signal.Length == 0)
            {
                empty.Add(i);
            }
            else if (allZero)
            {
                silent.Add(i);
            }
        }

        if (pool.Count == 0 || nulls.Count + empty.Count + silent.Count > 0)
        {
            throw new ArgumentException(
                $"Expected at least one {what}, none null, empty or silent; found {pool.Count} {what}(s), {nulls.Count} null{Indices(nulls)}, " +
                $"{empty.Count + silent.Count} empty or silent{Indices([.. empty, .. silent])}, of which {silent.Count} all zero{Indices(silent)}.",
                paramName);
        }
    }

    /// <summary>
    /// The first non-finite sample (−1 when none) and, when every sample is finite, whether all are zero (true for an
    /// empty signal): the one check behind the constructor's, <see cref="FromFolders"/>' and <see cref="FromExamples"/>' messages.
    /// </summary>
    private static (int NonFinite, bool Silent) Inspect(float[] signal)
    {
        int bad = SampleChecks.IndexOfNonFinite(signal);
        return (bad, bad < 0 && Array.TrueForAll(signal, x => x == 0));
    }

    private static string Indices(List<int> indices) =>
        indices.Count == 0 ? string.Empty : $" (index {string.Join(", ", indices.Order().Take(8))}{(indices.Count > 8 ? ", …" : string.Empty)})";

    private static float[][] LoadFolder(string directory, int sampleRate, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The {what} folder '{Path.GetFullPath(directory)}' does not exist.");
        }

        string[] files = AudioFile.ListWavFiles(directory, recursive: true).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new InvalidDataException($"The {what} folder '{directory}' holds no .wav files (expected at least 1).");
        }

        return files.Select(f => Checked(f, AudioFile.Load(f, sampleRate).Samples, what)).ToArray();
    }

    private static float[] Checked(string path, float[] samples, string what)
    {
        (int bad, bool silent) = Inspect(samples);
        if (bad >= 0)
        {
            throw new InvalidDataException($"The {what} file '{path}' has a non-finite sample ({samples[bad]}) at index {bad}; expected finite samples.");
        }

        if (silent)
        {
            throw new InvalidDataException($"The {what} file '{path}' is {(samples.Length == 0 ? "empty" : "silent (all zero)")}; expected audible audio.");
        }

        return samples;
    }
}
