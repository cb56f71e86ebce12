using Dls.Audio.Resampling;

namespace Dls.Audio.IO;

/// <summary>
/// One-line loading and saving of audio, with the semantics of <c>librosa.load</c> / <c>soundfile.write</c>.
/// </summary>
public static class AudioFile
{
    /// <summary>
    /// Loads a WAV file as a mono signal: the native sample rate unless <paramref name="sampleRate"/> is given
    /// (then band-limited resampling, see <see cref="Resampler"/>), channels averaged to mono.
    /// </summary>
    /// <param name="path">A WAV file (PCM 8/16/24/32-bit, float 32/64, any channel count).</param>
    /// <param name="sampleRate">The rate to resample to in Hz, or <see langword="null"/> for the file's own rate.</param>
    /// <param name="mono">Must be <see langword="true"/> here (an <see cref="AudioSignal"/> is mono); use
    /// <see cref="WavFile.Read(string)"/> for separate channels.</param>
    /// <returns>The signal.</returns>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The file's codec is not supported.</exception>
    /// <exception cref="ArgumentException"><paramref name="mono"/> is false, or <paramref name="sampleRate"/> is not positive.</exception>
    public static AudioSignal Load(string path, int? sampleRate = null, bool mono = true)
    {
        if (!mono)
        {
            throw new ArgumentException(
                "AudioSignal is mono, so Load needs mono = true; use WavFile.Read for the individual channels.", nameof(mono));
        }

        if (sampleRate is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, $"The sample rate must be a positive number of Hz; found {sampleRate}.");
        }

        WavData data = WavFile.Read(path);
        AudioSignal signal = data.ToSignal();
        return sampleRate is int rate ? Resampler.Resample(signal, rate) : signal;
    }

    /// <summary>Saves a mono signal as a WAV file, atomically (temporary file, then rename).</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="signal">The signal.</param>
    /// <param name="format">The storage format; integer formats clip to [-1, 1).</param>
    public static void Save(string path, AudioSignal signal, WavSampleFormat format = WavSampleFormat.Pcm16)
    {
        ArgumentNullException.ThrowIfNull(signal);
        WavFile.Write(path, new WavData(signal.SampleRate, [signal.Samples], format));
    }

    /// <summary>
    /// The WAV files of a folder: names ending in <c>.wav</c> in any letter case (<c>A.WAV</c>, as Windows and macOS tools
    /// often write them, is matched on Linux too), sorted by ordinal full path so every machine lists them alike.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="recursive">Whether to include sub-folders.</param>
    /// <returns>Full paths.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> ListWavFiles(string directory, bool recursive = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var options = new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive, RecurseSubdirectories = recursive };
        return Directory.EnumerateFiles(directory, "*.wav", options).Order(StringComparer.Ordinal).ToArray();
    }
}
