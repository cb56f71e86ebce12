using System.Buffers.Binary;
using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavWriterTests
{
    private static readonly WavFormat MonoPcm16 = new(16000, 1, WavSampleFormat.Pcm16);

    [Fact]
    public void Constructor_ReadOnlyStream_ArgumentExceptionNamingIt()
    {
        using var readOnly = new MemoryStream(new byte[16], writable: false);

        var ex = Assert.Throws<ArgumentException>(() => new WavWriter(readOnly, MonoPcm16));

        Assert.Equal("stream", ex.ParamName);
        Assert.Contains("The stream must be writable", ex.Message);
    }

    [Fact]
    public void Constructor_NegativeFrameCount_ArgumentOutOfRangeAndWritesNothing()
    {
        using var buffer = new MemoryStream();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new WavWriter(buffer, MonoPcm16, frameCount: -1));

        Assert.Equal("frameCount", ex.ParamName);
        Assert.Equal(-1L, ex.ActualValue);
        Assert.Contains("The frame count cannot be negative", ex.Message);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void Constructor_AnnouncedFramesBeyondFourGiB_ArgumentExceptionAtTheLimitNotBelow()
    {
        // RIFF sizes are 32-bit and the writer keeps 64 bytes for the header, so the data may take at most
        // 2^32 − 1 − 64 = 4,294,967,231 bytes: 2,147,483,615 frames of 16-bit mono (2 bytes each), not one more.
        const long largest = 2_147_483_615;
        using var buffer = new MemoryStream();

        var ex = Assert.Throws<ArgumentException>(() => new WavWriter(buffer, MonoPcm16, frameCount: largest + 1));

        Assert.Equal("frameCount", ex.ParamName);
        Assert.Contains("2147483616 frames of 2 bytes exceed the 4 GiB a RIFF/WAV file can hold", ex.Message);
        Assert.Equal(0, buffer.Length);

        using (var writer = new WavWriter(buffer, MonoPcm16, frameCount: largest, leaveOpen: true))
        {
            // The header announces the whole data chunk up front: 2 × 2,147,483,615 = 4,294,967,230 bytes.
            Assert.Equal(4_294_967_230u, BinaryPrimitives.ReadUInt32LittleEndian(buffer.ToArray().AsSpan(40)));
        }
    }

    [Fact]
    public void WriteFrames_PartialFrame_ArgumentExceptionWithChannelsAndLength()
    {
        using var buffer = new MemoryStream();
        using var writer = new WavWriter(buffer, new WavFormat(16000, 2, WavSampleFormat.Pcm16), leaveOpen: true);

        var ex = Assert.Throws<ArgumentException>(() => writer.WriteFrames([0.1f, 0.2f, 0.3f]));

        Assert.Equal("interleaved", ex.ParamName);
        Assert.Contains("Interleaved length must be a multiple of the channel count 2; found 3", ex.Message);
        Assert.Equal(0, writer.FramesWritten);
    }

    [Fact]
    public void WriteFrames_MoreThanAnnounced_InvalidOperationAndNothingWritten()
    {
        using var buffer = new MemoryStream();
        using var writer = new WavWriter(buffer, MonoPcm16, frameCount: 4, leaveOpen: true);
        writer.WriteFrames([0.1f, 0.2f]);
        long length = buffer.Length;

        var ex = Assert.Throws<InvalidOperationException>(() => writer.WriteFrames([0.3f, 0.4f, 0.5f]));

        Assert.Contains("Writing 3 more frames would exceed the announced 4 (already written 2)", ex.Message);
        Assert.Equal(2, writer.FramesWritten);
        Assert.Equal(length, buffer.Length);
    }

    [Fact]
    public void WriteFrames_PastFourGiBOnASeekableStream_InvalidOperationAtTheLimit()
    {
        // Without an announced count nothing stops the caller up front, so the limit is met while writing, after
        // 4.3 GB went through the encoder (Stream.Null seeks and drops them; a fraction of a second of copying). Frames of
        // 16,383 float channels (65,532 bytes) keep the counts small: the data may take 2^32 − 1 − 64 bytes (see above),
        // so 65,539 frames fit (4,294,967,231 / 65,532 = 65,539.999) and the 65,540th does not.
        const int channels = 16_383;
        const int largest = 65_539;
        using var writer = new WavWriter(Stream.Null, new WavFormat(8000, channels, WavSampleFormat.Float32), leaveOpen: true);
        var block = new float[256 * channels];
        while (writer.FramesWritten + 256 <= largest)
        {
            writer.WriteFrames(block);
        }

        writer.WriteFrames(block.AsSpan(0, (int)(largest - writer.FramesWritten) * channels));
        var ex = Assert.Throws<InvalidOperationException>(() => writer.WriteFrames(block.AsSpan(0, channels)));

        Assert.Contains("65540 frames of 65532 bytes exceed the 4 GiB a RIFF/WAV file can hold", ex.Message);
        Assert.Equal(largest, writer.FramesWritten);
    }

    [Fact]
    public void WriteChannels_OtherChannelCount_ArgumentExceptionExpectedAndFound()
    {
        using var buffer = new MemoryStream();
        using var writer = new WavWriter(buffer, new WavFormat(16000, 2, WavSampleFormat.Pcm16), leaveOpen: true);

        var ex = Assert.Throws<ArgumentException>(() => writer.WriteChannels([new float[4]]));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("Expected 2 channels, found 1", ex.Message);
        Assert.Equal(0, writer.FramesWritten);
    }

    [Fact]
    public void WriteChannels_DifferentLengths_ArgumentExceptionWithBothLengths()
    {
        using var buffer = new MemoryStream();
        using var writer = new WavWriter(buffer, new WavFormat(16000, 2, WavSampleFormat.Pcm16), leaveOpen: true);

        var ex = Assert.Throws<ArgumentException>(() => writer.WriteChannels([new float[4], new float[3]]));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("All channels must have the same length: 4 vs 3", ex.Message);
        Assert.Equal(0, writer.FramesWritten);
    }

    [Fact]
    public void Dispose_NonSeekableStreamGotFewerFramesThanAnnounced_InvalidOperationWithBothCounts()
    {
        var sink = new WriteOnlyStream();
        var writer = new WavWriter(sink, MonoPcm16, frameCount: 5, leaveOpen: true);
        writer.WriteFrames([0.1f, 0.2f, 0.3f]);

        var ex = Assert.Throws<InvalidOperationException>(writer.Dispose);

        Assert.Contains("The WAV header announced 5 frames but 3 were written, and the stream cannot seek to fix it", ex.Message);
        Assert.Equal(44 + (3 * 2), sink.BytesWritten);   // the 44-byte PCM header and three 16-bit samples, nothing patched
        writer.Dispose();                                 // the writer is finished all the same: a second call does nothing
        Assert.Equal(44 + (3 * 2), sink.BytesWritten);
    }

    [Fact]
    public void Dispose_SeekableFloatWithoutCount_PatchesRiffDataAndFactSizes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new WavWriter(buffer, new WavFormat(8000, 2, WavSampleFormat.Float32), leaveOpen: true))
        {
            writer.WriteFrames([0.5f, -0.5f, 0.25f, -0.25f, 0.125f, -0.125f]);
            writer.WriteFrames([1f, -1f, 0f, 0f]);
        }

        byte[] bytes = buffer.ToArray();

        // IEEE float layout: RIFF header (12), 'fmt ' chunk of 18 bytes (8 + 18), 'fact' chunk (8 + 4), 'data' header (8),
        // then 5 frames × 2 channels × 4 bytes = 40 bytes of samples.
        Assert.Equal(58 + 40, bytes.Length);
        Assert.Equal(98u - 8, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));    // RIFF size = file − 8
        Assert.Equal("fact"u8.ToArray(), bytes[38..42]);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(46)));        // dwSampleLength: frames
        Assert.Equal("data"u8.ToArray(), bytes[50..54]);
        Assert.Equal(40u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(54)));       // data size in bytes
        WavData read = WavFile.Read(new MemoryStream(bytes));
        Assert.Equal([0.5f, 0.25f, 0.125f, 1f, 0f], read.GetChannel(0));
        Assert.Equal([-0.5f, -0.25f, -0.125f, -1f, 0f], read.GetChannel(1));
    }
}
