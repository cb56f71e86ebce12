namespace Dls.Audio.IO;

/// <summary>Whole-file WAV reading and writing; see <see cref="WavReader"/> and <see cref="WavWriter"/> for streaming.</summary>
public static class WavFile
{
    // Working blocks are sized in bytes, not frames: a frame can hold 65,535 channels, and 16,384 such frames of
    // floats would be 4.3 GB for a file of a few kilobytes.
    private const int BlockBytes = 1 << 16;

    /// <summary>Reads a whole WAV file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The samples per channel, as floats in [-1, 1), and the format.</returns>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The codec is not PCM or IEEE float.</exception>
    public static WavData Read(string path)
    {
        using var reader = new WavReader(path);
        return ReadAll(reader);
    }

    /// <summary>
    /// Reads all the data of an opened reader that has not read any yet: for a caller that looked at the header (rate,
    /// length) before choosing to load the whole file, without opening and parsing it a second time.
    /// </summary>
    /// <param name="reader">A reader fresh from its constructor (the caller keeps ownership and disposes it).</param>
    /// <returns>The samples per channel, as floats in [-1, 1), and the format.</returns>
    /// <exception cref="InvalidOperationException">The reader has already read some of its data.</exception>
    /// <exception cref="InvalidDataException">The data chunk is truncated.</exception>
    public static WavData Read(WavReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.FramesRemaining != reader.FrameCount)
        {
            throw new InvalidOperationException(
                $"Expected a reader that has read none of its {reader.FrameCount} frames; found {reader.FrameCount - reader.FramesRemaining} read.");
        }

        return ReadAll(reader);
    }

    /// <summary>Reads whole WAV content from the current position of <paramref name="stream"/> (left open).</summary>
    /// <param name="stream">A readable stream.</param>
    /// <returns>The samples per channel and the format.</returns>
    /// <exception cref="InvalidDataException">The content is malformed.</exception>
    /// <exception cref="NotSupportedException">The codec is not PCM or IEEE float.</exception>
    public static WavData Read(Stream stream)
    {
        using var reader = new WavReader(stream, leaveOpen: true);
        return ReadAll(reader);
    }

    /// <summary>Reads only the header of a WAV file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The format, frame count and whether the header is <c>WAVE_FORMAT_EXTENSIBLE</c>.</returns>
    public static WavInfo ReadInfo(string path)
    {
        using var reader = new WavReader(path);
        return new WavInfo(reader.Format, reader.FrameCount, reader.IsExtensible);
    }

    /// <summary>Writes <paramref name="data"/> atomically (temporary file, then rename) to <paramref name="path"/>.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="data">The content.</param>
    /// <param name="format">The storage format; <see langword="null"/> keeps <see cref="WavData.SampleFormat"/>.</param>
    public static void Write(string path, WavData data, WavSampleFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        AtomicFile.Write(path, s => Write(s, data, format));
    }

    /// <summary>Writes <paramref name="data"/> to <paramref name="stream"/> (left open).</summary>
    /// <param name="stream">A writable stream (need not be seekable).</param>
    /// <param name="data">The content.</param>
    /// <param name="format">The storage format; <see langword="null"/> keeps <see cref="WavData.SampleFormat"/>.</param>
    public static void Write(Stream stream, WavData data, WavSampleFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var layout = new WavFormat(data.SampleRate, data.ChannelCount, format ?? data.SampleFormat);
        using var writer = new WavWriter(stream, layout, data.FrameCount, leaveOpen: true);
        var channels = new float[data.ChannelCount][];
        for (int c = 0; c < channels.Length; c++)
        {
            channels[c] = data.GetChannel(c);
        }

        writer.WriteChannels(channels);
    }

    /// <summary>Writes mono samples atomically to <paramref name="path"/>.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="samples">The mono samples.</param>
    /// <param name="sampleRate">The sample rate in Hz.</param>
    /// <param name="format">The storage format.</param>
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate, WavSampleFormat format = WavSampleFormat.Pcm16)
    {
        float[] copy = samples.ToArray();
        Write(path, new WavData(sampleRate, [copy], format));
    }

    private static WavData ReadAll(WavReader reader)
    {
        if (reader.FrameCount > Array.MaxLength)
        {
            throw new NotSupportedException(
                $"The WAV file holds {reader.FrameCount} frames per channel, more than one array can; read it in blocks with WavReader.");
        }

        // The reader has already checked the declared size against a seekable stream's length. A non-seekable stream
        // could still lie, so there the arrays grow as data actually arrives instead of trusting the header.
        int declared = (int)reader.FrameCount;
        int channelCount = reader.Format.ChannelCount;
        int blockFrames = Math.Max(1, BlockBytes / (channelCount * sizeof(float)));
        int capacity = reader.IsSizeVerified ? declared : Math.Min(declared, blockFrames);
        var channels = new float[channelCount][];
        for (int c = 0; c < channelCount; c++)
        {
            channels[c] = new float[capacity];
        }

        if (declared == 0)
        {
            return new WavData(reader.Format.SampleRate, channels, reader.Format.SampleFormat);
        }

        if (channelCount == 1 && reader.IsSizeVerified)
        {
            // Mono with a trusted size: decode straight into the result, no intermediate block.
            // ReadFrames loops until the data chunk is exhausted or throws on truncation, so the array ends up full.
            reader.ReadFrames(channels[0]);
            return new WavData(reader.Format.SampleRate, channels, reader.Format.SampleFormat);
        }

        var block = new float[blockFrames * channelCount];
        int frames = 0;
        while (true)
        {
            int got = reader.ReadFrames(block);
            if (got == 0)
            {
                break;
            }

            if (frames + got > channels[0].Length)
            {
                int grown = (int)Math.Min(declared, Math.Max((long)channels[0].Length * 2, frames + got));
                for (int c = 0; c < channelCount; c++)
                {
                    Array.Resize(ref channels[c], grown);
                }
            }

            WavData.Deinterleave(block.AsSpan(0, got * channelCount), channels, frames);
            frames += got;
        }

        return new WavData(reader.Format.SampleRate, channels, reader.Format.SampleFormat);
    }
}

/// <summary>What a WAV header says.</summary>
/// <param name="Format">Sample rate, channels and storage format.</param>
/// <param name="FrameCount">Samples per channel in the data chunk.</param>
/// <param name="IsExtensible">Whether the header used <c>WAVE_FORMAT_EXTENSIBLE</c>.</param>
public sealed record WavInfo(WavFormat Format, long FrameCount, bool IsExtensible)
{
    /// <summary>The duration in seconds.</summary>
    public double DurationSeconds => (double)FrameCount / Format.SampleRate;
}
