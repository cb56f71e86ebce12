namespace Dls.Audio.IO;

/// <summary>The layout of the samples in a WAV file.</summary>
/// <param name="SampleRate">Frames per second, in Hz.</param>
/// <param name="ChannelCount">The number of interleaved channels.</param>
/// <param name="SampleFormat">How each sample is stored.</param>
public sealed record WavFormat(int SampleRate, int ChannelCount, WavSampleFormat SampleFormat)
{
    /// <summary>Bytes per sample of one channel.</summary>
    public int BytesPerSample => SampleFormat.BytesPerSample();

    /// <summary>Bits per sample of one channel.</summary>
    public int BitsPerSample => 8 * BytesPerSample;

    /// <summary>Bytes per frame (one sample of every channel): the WAV <c>nBlockAlign</c>.</summary>
    public int BlockAlign => ChannelCount * BytesPerSample;

    /// <summary>Checks the values a WAV header can hold.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names every bad field.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (SampleRate <= 0)
        {
            errors.Add($"SampleRate must be positive (Hz); found {SampleRate}");
        }

        if (ChannelCount is <= 0 or > ushort.MaxValue)
        {
            errors.Add($"ChannelCount must be in 1..{ushort.MaxValue}; found {ChannelCount}");
        }

        if (!Enum.IsDefined(SampleFormat))
        {
            errors.Add($"SampleFormat {(int)SampleFormat} is not a defined WavSampleFormat");
        }
        else if (ChannelCount > 0 && (long)ChannelCount * BytesPerSample > ushort.MaxValue)
        {
            // nBlockAlign is a 16-bit header field: a larger frame would be written truncated and corrupt the file.
            errors.Add($"ChannelCount × bytes per sample (the block align) must be at most {ushort.MaxValue}; found {ChannelCount} × {BytesPerSample} = {(long)ChannelCount * BytesPerSample}");
        }
        else if (SampleRate > 0 && ChannelCount > 0 && (long)SampleRate * BlockAlign > uint.MaxValue)
        {
            // nAvgBytesPerSec is a 32-bit header field: a larger rate would be written wrapped around.
            errors.Add($"SampleRate × block align (the byte rate) must be at most {uint.MaxValue}; found {SampleRate} × {BlockAlign} = {(long)SampleRate * BlockAlign}");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid WAV format: " + string.Join("; ", errors) + ".");
        }
    }
}
