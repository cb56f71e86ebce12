namespace Dls.Audio.IO;

/// <summary>How the samples of a WAV file are stored.</summary>
public enum WavSampleFormat
{
    /// <summary>8-bit unsigned integer PCM (silence is 128).</summary>
    PcmU8,

    /// <summary>16-bit signed integer PCM.</summary>
    Pcm16,

    /// <summary>24-bit signed integer PCM (three bytes per sample).</summary>
    Pcm24,

    /// <summary>32-bit signed integer PCM.</summary>
    Pcm32,

    /// <summary>32-bit IEEE float.</summary>
    Float32,

    /// <summary>64-bit IEEE float.</summary>
    Float64,
}

/// <summary>Facts about each <see cref="WavSampleFormat"/>.</summary>
public static class WavSampleFormatExtensions
{
    /// <summary>The number of bytes one sample of one channel takes in the file.</summary>
    /// <param name="format">The sample format.</param>
    /// <returns>1, 2, 3, 4 or 8.</returns>
    public static int BytesPerSample(this WavSampleFormat format) => format switch
    {
        WavSampleFormat.PcmU8 => 1,
        WavSampleFormat.Pcm16 => 2,
        WavSampleFormat.Pcm24 => 3,
        WavSampleFormat.Pcm32 => 4,
        WavSampleFormat.Float32 => 4,
        WavSampleFormat.Float64 => 8,
        _ => throw Undefined(format),
    };

    /// <summary>Whether the format stores IEEE floats (rather than integers).</summary>
    /// <param name="format">The sample format.</param>
    /// <returns><see langword="true"/> for <see cref="WavSampleFormat.Float32"/> and <see cref="WavSampleFormat.Float64"/>.</returns>
    public static bool IsFloatingPoint(this WavSampleFormat format) =>
        format is WavSampleFormat.Float32 or WavSampleFormat.Float64;

    /// <summary>A short human-readable name, in the style of sox (<c>16-bit signed integer PCM</c>).</summary>
    /// <param name="format">The sample format.</param>
    /// <returns>The description.</returns>
    public static string Describe(this WavSampleFormat format) => format switch
    {
        WavSampleFormat.PcmU8 => "8-bit unsigned integer PCM",
        WavSampleFormat.Pcm16 => "16-bit signed integer PCM",
        WavSampleFormat.Pcm24 => "24-bit signed integer PCM",
        WavSampleFormat.Pcm32 => "32-bit signed integer PCM",
        WavSampleFormat.Float32 => "32-bit floating point PCM",
        WavSampleFormat.Float64 => "64-bit floating point PCM",
        _ => throw Undefined(format),
    };

    /// <summary>The exception for a value cast from an integer that names no <see cref="WavSampleFormat"/>.</summary>
    internal static ArgumentOutOfRangeException Undefined(WavSampleFormat format) =>
        new(nameof(format), format, $"Expected a defined WavSampleFormat (PcmU8, Pcm16, Pcm24, Pcm32, Float32 or Float64); found {(int)format}.");
}
