using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavFormatTests
{
    [Fact]
    public void Validate_EveryFieldBad_AllNamedWithTheirValues()
    {
        var format = new WavFormat(0, 0, (WavSampleFormat)99);

        var ex = Assert.Throws<ArgumentException>(format.Validate);

        Assert.StartsWith("Invalid WAV format: ", ex.Message);
        Assert.Contains("SampleRate must be positive (Hz); found 0", ex.Message);
        Assert.Contains("ChannelCount must be in 1..65535; found 0", ex.Message);
        Assert.Contains("SampleFormat 99 is not a defined WavSampleFormat", ex.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Validate_ChannelCountOutside16Bits_ArgumentExceptionWithRangeAndValue(int channels)
    {
        // nChannels is a 16-bit header field: 1..65,535.
        var ex = Assert.Throws<ArgumentException>(new WavFormat(16000, channels, WavSampleFormat.PcmU8).Validate);

        Assert.Contains($"ChannelCount must be in 1..65535; found {channels}", ex.Message);
    }
}
