using Dls.Audio;
using Dls.Audio.IO;

namespace Dls.Models.Denoising;

/// <summary>A noisy/clean example in memory, at one sample rate.</summary>
/// <param name="Name">A short name for reports.</param>
/// <param name="Noisy">The mixture.</param>
/// <param name="Clean">The clean reference, as long as <paramref name="Noisy"/>.</param>
/// <param name="Noise">The noise alone when known (homework layout, on-the-fly mixing); otherwise <c>null</c>; as long as <paramref name="Noisy"/>.</param>
/// <exception cref="ArgumentNullException"><paramref name="Name"/>, <paramref name="Noisy"/> or <paramref name="Clean"/> is null.</exception>
/// <exception cref="ArgumentException"><paramref name="Clean"/> or <paramref name="Noise"/> is not as long as <paramref name="Noisy"/> (the message gives both lengths).</exception>
/// <remarks>
/// The constructor checks the structure only (cheap); the samples themselves (finite, audible) are checked by what uses
/// them. A <c>with</c> expression bypasses the constructor, so consumers check the structure again.
/// </remarks>
public sealed record DenoisingExample(string Name, float[] Noisy, float[] Clean, float[]? Noise)
{
    /// <summary>A short name for reports.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>The mixture.</summary>
    public float[] Noisy { get; init; } = Noisy ?? throw new ArgumentNullException(nameof(Noisy));

    /// <summary>The clean reference, as long as <see cref="Noisy"/>.</summary>
    public float[] Clean { get; init; } = SameLength(Name, Noisy, Clean ?? throw new ArgumentNullException(nameof(Clean)), "clean", nameof(Clean));

    /// <summary>The noise alone when known; otherwise <c>null</c>. As long as <see cref="Noisy"/>.</summary>
    public float[]? Noise { get; init; } = Noise is null ? null : SameLength(Name, Noisy, Noise, "noise", nameof(Noise));

    /// <summary>Reads a pair from disk at <paramref name="sampleRate"/> (resampling when the files differ).</summary>
    /// <param name="pair">The files.</param>
    /// <param name="sampleRate">The rate in Hz to load at.</param>
    /// <returns>The example.</returns>
    /// <exception cref="InvalidDataException">The files are of different lengths or empty, or a file has a non-finite sample (NaN, ±∞).</exception>
    public static DenoisingExample Load(DenoisingPair pair, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        float[] noisy = AudioFile.Load(pair.MixturePath, sampleRate).Samples;
        float[] clean = AudioFile.Load(pair.CleanPath, sampleRate).Samples;
        float[]? noise = pair.NoisePath is null ? null : AudioFile.Load(pair.NoisePath, sampleRate).Samples;
        if (noisy.Length == 0)
        {
            throw new InvalidDataException($"'{pair.MixturePath}' holds no samples (expected at least 1).");
        }

        if (clean.Length != noisy.Length)
        {
            throw new InvalidDataException(
                $"'{pair.CleanPath}' has {clean.Length} samples but its mixture '{pair.MixturePath}' has {noisy.Length}; a pair must have equal lengths.");
        }

        if (noise is not null && noise.Length != noisy.Length)
        {
            throw new InvalidDataException(
                $"'{pair.NoisePath}' has {noise.Length} samples but its mixture '{pair.MixturePath}' has {noisy.Length}; a pair must have equal lengths.");
        }

        RequireFinite(noisy, pair.MixturePath, sampleRate);
        RequireFinite(clean, pair.CleanPath, sampleRate);
        if (noise is not null)
        {
            RequireFinite(noise, pair.NoisePath!, sampleRate);
        }

        return new DenoisingExample(pair.Name, noisy, clean, noise);
    }

    /// <summary>
    /// Why <paramref name="example"/> cannot be used as a noisy/clean pair, or <c>null</c> when it can: the one check
    /// behind the training problem's and the evaluation's messages (each puts the list, index and name in front).
    /// Structure first (null parts, lengths), then one scan per signal (finite samples; audible clean when asked).
    /// </summary>
    internal static string? Defect(DenoisingExample example, bool requireAudibleClean)
    {
        if (example.Noisy is null || example.Clean is null)
        {
            return $"has no {(example.Noisy is null ? "noisy" : "clean")} signal (null)";
        }

        if (example.Clean.Length != example.Noisy.Length)
        {
            return $"has {example.Clean.Length} clean samples but {example.Noisy.Length} noisy ones; expected equal lengths";
        }

        if (example.Noisy.Length == 0)
        {
            return "holds no samples; expected at least 1";
        }

        foreach ((string part, float[] signal) in new[] { ("noisy", example.Noisy), ("clean", example.Clean) })
        {
            int bad = SampleChecks.IndexOfNonFinite(signal);
            if (bad >= 0)
            {
                return $"has a non-finite {part} sample ({signal[bad]}) at index {bad}; expected finite samples";
            }
        }

        // An all-zero reference has no SNR, so a validation score over it would be undefined.
        if (requireAudibleClean && Array.TrueForAll(example.Clean, x => x == 0))
        {
            return "has a silent (all-zero) clean signal; expected an audible reference (its SNR is undefined)";
        }

        return null;
    }

    private static float[] SameLength(string? name, float[]? noisy, float[] signal, string part, string paramName)
    {
        if (noisy is not null && signal.Length != noisy.Length)
        {
            throw new ArgumentException(
                $"Example '{name}' has {signal.Length} {part} samples but {noisy.Length} noisy ones; expected equal lengths.", paramName);
        }

        return signal;
    }

    private static void RequireFinite(float[] samples, string path, int sampleRate)
    {
        int bad = SampleChecks.IndexOfNonFinite(samples);
        if (bad >= 0)
        {
            throw new InvalidDataException($"'{path}' has a non-finite sample ({samples[bad]}) at index {bad} (at {sampleRate} Hz); expected finite samples.");
        }
    }

    /// <summary>Reads every pair of a dataset folder (homework or VoiceBank layout).</summary>
    /// <param name="directory">The dataset folder.</param>
    /// <param name="sampleRate">The rate in Hz to load at.</param>
    /// <returns>The examples, in name order.</returns>
    public static IReadOnlyList<DenoisingExample> LoadAll(string directory, int sampleRate) =>
        PairedDataset.List(directory).Select(p => Load(p, sampleRate)).ToArray();
}
