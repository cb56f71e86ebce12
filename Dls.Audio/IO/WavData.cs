namespace Dls.Audio.IO;

/// <summary>
/// The whole content of a WAV file: one <see cref="float"/> array per channel plus the format it was stored in.
/// </summary>
/// <remarks>The channel arrays are held as given (no copy) and returned as is by <see cref="GetChannel"/>.</remarks>
public sealed class WavData
{
    private readonly float[][] _channels;

    /// <summary>Creates WAV content from per-channel samples.</summary>
    /// <param name="sampleRate">The sample rate in Hz; must be positive.</param>
    /// <param name="channels">One array per channel, all the same length (not copied).</param>
    /// <param name="sampleFormat">The storage format the samples came from (or are meant for).</param>
    /// <exception cref="ArgumentException">No channels, channels of different lengths, or a non-positive rate.</exception>
    public WavData(int sampleRate, IReadOnlyList<float[]> channels, WavSampleFormat sampleFormat = WavSampleFormat.Float32)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0)
        {
            throw new ArgumentException("At least one channel is required; found 0.", nameof(channels));
        }

        _channels = new float[channels.Count][];
        for (int c = 0; c < channels.Count; c++)
        {
            _channels[c] = channels[c] ?? throw new ArgumentException($"Expected an array of samples for channel {c}; found null.", nameof(channels));
            if (_channels[c].Length != _channels[0].Length)
            {
                throw new ArgumentException(
                    $"All channels must have the same length: channel 0 has {_channels[0].Length} samples, channel {c} has {_channels[c].Length}.",
                    nameof(channels));
            }
        }

        Format = new WavFormat(sampleRate, channels.Count, sampleFormat);
        Format.Validate();
    }

    /// <summary>The sample rate, channel count and storage format.</summary>
    public WavFormat Format { get; }

    /// <summary>The sample rate in Hz.</summary>
    public int SampleRate => Format.SampleRate;

    /// <summary>The number of channels.</summary>
    public int ChannelCount => _channels.Length;

    /// <summary>The storage format the samples were read from.</summary>
    public WavSampleFormat SampleFormat => Format.SampleFormat;

    /// <summary>Samples per channel.</summary>
    public int FrameCount => _channels[0].Length;

    /// <summary>The duration in seconds.</summary>
    public double DurationSeconds => (double)FrameCount / SampleRate;

    /// <summary>Creates WAV content from interleaved samples (<c>L R L R …</c>).</summary>
    /// <param name="interleaved">Interleaved samples; the length must be a multiple of <paramref name="channelCount"/>.</param>
    /// <param name="channelCount">The number of channels.</param>
    /// <param name="sampleRate">The sample rate in Hz.</param>
    /// <param name="sampleFormat">The storage format.</param>
    /// <returns>The de-interleaved content.</returns>
    public static WavData FromInterleaved(ReadOnlySpan<float> interleaved, int channelCount, int sampleRate, WavSampleFormat sampleFormat = WavSampleFormat.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channelCount, 1);
        if (interleaved.Length % channelCount != 0)
        {
            throw new ArgumentException(
                $"The interleaved length must be a multiple of the channel count {channelCount}; found {interleaved.Length}.", nameof(interleaved));
        }

        int frames = interleaved.Length / channelCount;
        var channels = new float[channelCount][];
        for (int c = 0; c < channelCount; c++)
        {
            channels[c] = new float[frames];
        }

        Deinterleave(interleaved, channels, 0);
        return new WavData(sampleRate, channels, sampleFormat);
    }

    /// <summary>The samples of one channel (the stored array itself, not a copy).</summary>
    /// <param name="index">The channel index, from 0.</param>
    /// <returns>The channel's samples.</returns>
    public float[] GetChannel(int index)
    {
        if ((uint)index >= (uint)_channels.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Channel index must be in 0..{_channels.Length - 1}.");
        }

        return _channels[index];
    }

    /// <summary>The samples downmixed to mono by averaging the channels (a new array, even for mono content).</summary>
    /// <returns>The mono samples.</returns>
    public float[] ToMono()
    {
        var mono = (float[])_channels[0].Clone();
        if (_channels.Length == 1)
        {
            return mono;
        }

        for (int c = 1; c < _channels.Length; c++)
        {
            float[] ch = _channels[c];
            for (int i = 0; i < mono.Length; i++)
            {
                mono[i] += ch[i];
            }
        }

        float scale = 1f / _channels.Length;
        for (int i = 0; i < mono.Length; i++)
        {
            mono[i] *= scale;
        }

        return mono;
    }

    /// <summary>
    /// Downmixes interleaved frames (as <see cref="WavReader.ReadFrames"/> gives them) to mono with exactly the arithmetic
    /// of <see cref="ToMono"/> — channels added in order, then multiplied by 1 / channels — so that a file read block by
    /// block gives the samples of the whole file's <see cref="ToMono"/>.
    /// </summary>
    /// <param name="interleaved">Whole frames: a multiple of <paramref name="channelCount"/> samples.</param>
    /// <param name="channelCount">The channels per frame (≥ 1).</param>
    /// <param name="mono">Receives one sample per frame; at least as long as the frames, and not overlapping
    /// <paramref name="interleaved"/> (an in-place downmix would overwrite samples before they are added).</param>
    /// <returns>The number of frames written to <paramref name="mono"/>.</returns>
    /// <exception cref="ArgumentException">A channel count below 1, a partial frame, <paramref name="mono"/> too short or
    /// overlapping the input.</exception>
    public static int DownmixInterleaved(ReadOnlySpan<float> interleaved, int channelCount, Span<float> mono)
    {
        if (channelCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(channelCount), channelCount, "Expected at least 1 channel.");
        }

        if (interleaved.Length % channelCount != 0)
        {
            throw new ArgumentException($"Expected whole frames of {channelCount} samples; found {interleaved.Length} samples.", nameof(interleaved));
        }

        int frames = interleaved.Length / channelCount;
        if (mono.Length < frames)
        {
            throw new ArgumentException($"Expected room for {frames} samples; found {mono.Length}.", nameof(mono));
        }

        if (mono[..frames].Overlaps(interleaved))
        {
            throw new ArgumentException("Expected an output span apart from the input; found them overlapping.", nameof(mono));
        }

        for (int i = 0; i < frames; i++)
        {
            mono[i] = interleaved[i * channelCount];
        }

        if (channelCount == 1)
        {
            return frames;
        }

        for (int c = 1; c < channelCount; c++)
        {
            for (int i = 0; i < frames; i++)
            {
                mono[i] += interleaved[(i * channelCount) + c];
            }
        }

        float scale = 1f / channelCount;
        for (int i = 0; i < frames; i++)
        {
            mono[i] *= scale;
        }

        return frames;
    }

    /// <summary>The samples interleaved (<c>L R L R …</c>) in a new array.</summary>
    /// <returns>The interleaved samples.</returns>
    public float[] ToInterleaved()
    {
        int n = ChannelCount;
        var result = new float[FrameCount * n];
        for (int c = 0; c < n; c++)
        {
            float[] ch = _channels[c];
            for (int i = 0, j = c; i < ch.Length; i++, j += n)
            {
                result[j] = ch[i];
            }
        }

        return result;
    }

    /// <summary>The mono downmix (see <see cref="ToMono"/>) as an <see cref="AudioSignal"/>.</summary>
    /// <returns>The mono signal.</returns>
    public AudioSignal ToSignal() => new(ToMono(), SampleRate);

    internal static void Deinterleave(ReadOnlySpan<float> interleaved, float[][] channels, int frameOffset)
    {
        int n = channels.Length;
        int frames = interleaved.Length / n;
        if (n == 1)
        {
            interleaved.CopyTo(channels[0].AsSpan(frameOffset));
            return;
        }

        if (n == 2)
        {
            Span<float> left = channels[0].AsSpan(frameOffset, frames);
            Span<float> right = channels[1].AsSpan(frameOffset, frames);
            for (int i = 0; i < frames; i++)
            {
                left[i] = interleaved[2 * i];
                right[i] = interleaved[(2 * i) + 1];
            }

            return;
        }

        for (int c = 0; c < n; c++)
        {
            float[] ch = channels[c];
            for (int i = 0, j = c; i < frames; i++, j += n)
            {
                ch[frameOffset + i] = interleaved[j];
            }
        }
    }
}
