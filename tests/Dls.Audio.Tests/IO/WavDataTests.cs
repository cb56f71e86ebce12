using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavDataTests
{
    [Fact]
    public void Constructor_NoChannels_ArgumentExceptionFoundZero()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WavData(16000, []));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("At least one channel is required; found 0", ex.Message);
    }

    [Fact]
    public void Constructor_NullChannel_ArgumentExceptionNamingItsIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WavData(16000, [new float[3], null!, new float[3]]));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("Expected an array of samples for channel 1; found null", ex.Message);
    }

    [Fact]
    public void Constructor_ChannelsOfDifferentLengths_ArgumentExceptionWithBothLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WavData(16000, [new float[3], new float[3], new float[2]]));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("channel 0 has 3 samples, channel 2 has 2", ex.Message);
    }

    [Fact]
    public void FromInterleaved_PartialFrame_ArgumentExceptionWithChannelCountAndLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => WavData.FromInterleaved(new float[5], 2, 16000));

        Assert.Equal("interleaved", ex.ParamName);
        Assert.Contains("multiple of the channel count 2; found 5", ex.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(2)]
    public void GetChannel_IndexOutsideTheChannels_ArgumentOutOfRangeWithRange(int index)
    {
        var data = new WavData(16000, [new float[3], new float[3]]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => data.GetChannel(index));

        Assert.Equal("index", ex.ParamName);
        Assert.Equal(index, ex.ActualValue);
        Assert.Contains("Channel index must be in 0..1", ex.Message);
    }

    [Theory]
    [InlineData(24000, 16000, 1.5)]
    [InlineData(44100, 44100, 1.0)]
    [InlineData(0, 8000, 0.0)]
    [InlineData(1, 48000, 1.0 / 48000)]
    public void DurationSeconds_FramesAndRate_FramesDividedByRate(int frames, int rate, double seconds)
    {
        var data = new WavData(rate, [new float[frames], new float[frames]]);

        Assert.Equal(seconds, data.DurationSeconds);
    }
}
