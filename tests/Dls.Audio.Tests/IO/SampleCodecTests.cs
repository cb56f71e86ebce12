using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class SampleCodecTests
{
    [Fact]
    public void DecodeAndEncode_UndefinedFormat_ArgumentOutOfRangeNamingIt()
    {
        // The public readers and writers validate the format first, so only a direct call reaches the codec's own guard.
        var format = (WavSampleFormat)99;

        var decode = Assert.Throws<ArgumentOutOfRangeException>(() => SampleCodec.Decode(new byte[8], new float[2], format));
        var encode = Assert.Throws<ArgumentOutOfRangeException>(() => SampleCodec.Encode([0.5f, -0.5f], new byte[8], format));

        foreach (ArgumentOutOfRangeException ex in new[] { decode, encode })
        {
            Assert.Equal("format", ex.ParamName);
            Assert.Equal(format, ex.ActualValue);
            Assert.Contains("Expected a defined WavSampleFormat", ex.Message);
            Assert.Contains("found 99", ex.Message);
        }
    }
}
