using Dls.Audio;
using Dls.Audio.IO;

namespace Dls.Models.Denoising;

/// <summary>A noisy/clean example in memory, at one sample rate.</summary>
/// <param name="Name">A short name for reports.</param>
/// <param name="Noisy">The mixture.</param>
/// <param name="Clean">The clean reference, as long as <paramref name="Noisy"/>.</param>
/// <param name="Noise">The noise alone when known (homework layout, on-the-fly mixing); otherwise <c>null</c>.</param>
public sealed record DenoisingExample(string Name, float[] Noisy, float[] Clean, float[]? Noise)
{
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
