using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavSampleFormatTests
{
    // The sizes are the WAV container widths (wBitsPerSample / 8); the names follow the "Sample Encoding" line of
    // sox --info (which capitalises them: "16-bit Signed Integer PCM").
    [Theory]
    [InlineData(WavSampleFormat.PcmU8, 1, "8-bit unsigned integer PCM")]
    [InlineData(WavSampleFormat.Pcm16, 2, "16-bit signed integer PCM")]
    [InlineData(WavSampleFormat.Pcm24, 3, "24-bit signed integer PCM")]
    [InlineData(WavSampleFormat.Pcm32, 4, "32-bit signed integer PCM")]
    [InlineData(WavSampleFormat.Float32, 4, "32-bit floating point PCM")]
    [InlineData(WavSampleFormat.Float64, 8, "64-bit floating point PCM")]
    public void BytesPerSampleAndDescribe_EachFormat_ContainerWidthAndSoxName(WavSampleFormat format, int bytes, string name)
    {
        Assert.Equal(bytes, format.BytesPerSample());
        Assert.Equal(name, format.Describe());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(6)]
    [InlineData(99)]
    public void BytesPerSampleAndDescribe_UndefinedValue_ArgumentOutOfRangeNamingIt(int value)
    {
        var format = (WavSampleFormat)value;

        var bytes = Assert.Throws<ArgumentOutOfRangeException>(() => format.BytesPerSample());
        var name = Assert.Throws<ArgumentOutOfRangeException>(() => format.Describe());

        foreach (ArgumentOutOfRangeException ex in new[] { bytes, name })
        {
            Assert.Equal("format", ex.ParamName);
            Assert.Equal(format, ex.ActualValue);
            Assert.Contains("Expected a defined WavSampleFormat (PcmU8, Pcm16, Pcm24, Pcm32, Float32 or Float64)", ex.Message);
            Assert.Contains($"found {value}", ex.Message);
        }
    }
}
