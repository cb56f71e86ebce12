using System.Buffers.Binary;
using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavRoundTripTests
{
    [Theory]
    [InlineData(WavSampleFormat.PcmU8, 1)]
    [InlineData(WavSampleFormat.Pcm16, 1)]
    [InlineData(WavSampleFormat.Pcm16, 2)]
    [InlineData(WavSampleFormat.Pcm24, 3)]
    [InlineData(WavSampleFormat.Pcm32, 1)]
    [InlineData(WavSampleFormat.Float32, 2)]
    [InlineData(WavSampleFormat.Float64, 1)]
    public void WriteReadWrite_AnyFormat_BytesIdentical(WavSampleFormat format, int channels)
    {
        var random = new Random(1234);
        var data = new float[channels][];
        for (int c = 0; c < channels; c++)
        {
            // Odd frame count exercises the pad byte for 8- and 24-bit mono/odd layouts.
            data[c] = Enumerable.Range(0, 1001).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        }

        byte[] first = WriteToBytes(new WavData(16000, data, format));
        WavData read = WavFile.Read(new MemoryStream(first));
        byte[] second = WriteToBytes(read);

        Assert.Equal(first, second);
        Assert.Equal(format, read.SampleFormat);
        Assert.Equal(channels, read.ChannelCount);
        Assert.Equal(1001, read.FrameCount);
    }

    [Fact]
    public void Write_Pcm16_EncodesEveryIntegerExactly()
    {
        // Every 16-bit value → float (÷ 32768) → file: the data chunk must hold the same integers.
        short[] all = Enumerable.Range(short.MinValue, 65536).Select(i => (short)i).ToArray();
        float[] samples = all.Select(v => v / 32768f).ToArray();

        byte[] bytes = WriteToBytes(new WavData(8000, [samples], WavSampleFormat.Pcm16));

        Assert.Equal(44 + (2 * 65536), bytes.Length);
        for (int i = 0; i < all.Length; i++)
        {
            Assert.Equal(all[i], BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44 + (2 * i))));
        }

        Assert.Equal(samples, WavFile.Read(new MemoryStream(bytes)).GetChannel(0));
    }

    [Fact]
    public void Write_Pcm16_HeaderFieldsAsSpecified()
    {
        byte[] bytes = WriteToBytes(new WavData(16000, [new float[3], new float[3]], WavSampleFormat.Pcm16));

        Assert.Equal("RIFF"u8.ToArray(), bytes[..4]);
        Assert.Equal(36 + 12, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)));   // RIFF size = file − 8
        Assert.Equal("WAVEfmt "u8.ToArray(), bytes[8..16]);
        Assert.Equal(16, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16)));       // fmt size
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(20)));        // WAVE_FORMAT_PCM
        Assert.Equal(2, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(22)));        // channels
        Assert.Equal(16000, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(24)));    // sample rate
        Assert.Equal(64000, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(28)));    // byte rate
        Assert.Equal(4, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(32)));        // block align
        Assert.Equal(16, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(34)));       // bits
        Assert.Equal("data"u8.ToArray(), bytes[36..40]);
        Assert.Equal(12, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(40)));       // data size
    }

    [Theory]
    [InlineData(1.0f, short.MaxValue)]
    [InlineData(-1.0f, short.MinValue)]
    [InlineData(3.5f, short.MaxValue)]
    [InlineData(-7f, short.MinValue)]
    [InlineData(float.NaN, 0)]
    public void Write_Pcm16_OutOfRangeClipped(float value, short expected)
    {
        byte[] bytes = WriteToBytes(new WavData(8000, [[value]], WavSampleFormat.Pcm16));

        Assert.Equal(expected, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44)));
    }

    [Fact]
    public void Write_Pcm16_VectorPathMatchesScalarRule()
    {
        // Long enough for the SIMD path; includes ties (k + 0.5) / 32768, NaN, infinities and out-of-range values.
        var random = new Random(77);
        float[] samples = new float[4099];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = (i % 7) switch
            {
                0 => (random.Next(-40000, 40000) + 0.5f) / 32768f,
                1 => (float)((random.NextDouble() * 4) - 2),
                2 => float.NaN,
                3 => i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                _ => (float)((random.NextDouble() * 2) - 1),
            };
        }

        byte[] bytes = WriteToBytes(new WavData(8000, [samples], WavSampleFormat.Pcm16));

        for (int i = 0; i < samples.Length; i++)
        {
            // The documented rule: round half to even, NaN → 0, clip to the 16-bit range.
            float scaled = MathF.Round(samples[i] * 32768f, MidpointRounding.ToEven);
            short expected = float.IsNaN(scaled) ? (short)0 : (short)Math.Clamp(scaled, short.MinValue, short.MaxValue);
            Assert.Equal(expected, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44 + (2 * i))));
        }
    }

    [Fact]
    public void WavWriter_NonSeekableWithoutCount_Throws()
    {
        using var sink = new WriteOnlyStream();

        var ex = Assert.Throws<ArgumentException>(() => new WavWriter(sink, new WavFormat(16000, 1, WavSampleFormat.Pcm16)));
        Assert.Contains("frame count", ex.Message);
    }

    [Theory]
    [InlineData(16384, WavSampleFormat.Float32, 65536)]
    [InlineData(21846, WavSampleFormat.Pcm24, 65538)]
    public void WavWriter_BlockAlignOver16Bits_ThrowsAndWritesNothing(int channels, WavSampleFormat format, long blockAlign)
    {
        using var buffer = new MemoryStream();

        var ex = Assert.Throws<ArgumentException>(() => new WavWriter(buffer, new WavFormat(16000, channels, format)));

        // nBlockAlign is 16 bits: the header would have held blockAlign mod 65536, a corrupt file.
        Assert.Contains("block align", ex.Message);
        Assert.Contains("at most 65535", ex.Message);
        Assert.Contains($"found {channels} × {format.BytesPerSample()} = {blockAlign}", ex.Message);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void WavWriter_ByteRateOver32Bits_ThrowsAndWritesNothing()
    {
        using var buffer = new MemoryStream();

        // 2,000,000,000 Hz × 4 bytes = 8e9 bytes/s: nAvgBytesPerSec (32 bits) would have held it mod 2^32.
        var ex = Assert.Throws<ArgumentException>(() => new WavWriter(buffer, new WavFormat(2_000_000_000, 2, WavSampleFormat.Pcm16)));

        Assert.Contains("byte rate", ex.Message);
        Assert.Contains($"at most {uint.MaxValue}", ex.Message);
        Assert.Contains("found 2000000000 × 4 = 8000000000", ex.Message);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void WavWriter_WriteChannelsWithNullChannel_ArgumentExceptionNamingIt()
    {
        using var buffer = new MemoryStream();
        using var writer = new WavWriter(buffer, new WavFormat(16000, 3, WavSampleFormat.Pcm16), leaveOpen: true);

        var ex = Assert.Throws<ArgumentException>(() => writer.WriteChannels([new float[4], new float[4], null!]));

        Assert.Equal("channels", ex.ParamName);
        Assert.Contains("Channel 2 is null", ex.Message);
        Assert.Equal(0, writer.FramesWritten);
    }

    [Fact]
    public void WavWriter_SeekableStreaming_PatchesSizes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new WavWriter(buffer, new WavFormat(8000, 1, WavSampleFormat.Pcm24), leaveOpen: true))
        {
            writer.WriteFrames([0.5f, -0.5f, 0.25f]);
            writer.WriteFrames([0.125f]);
        }

        buffer.Position = 0;
        WavData read = WavFile.Read(buffer);

        Assert.Equal([0.5f, -0.5f, 0.25f, 0.125f], read.GetChannel(0));
    }

    [Fact]
    public void Write_Path_IsAtomicAndReadable()
    {
        string dir = Directory.CreateTempSubdirectory("dls-wav").FullName;
        try
        {
            string path = Path.Combine(dir, "x.wav");
            var signal = new AudioSignal([0f, 0.5f, -0.5f], 22050);

            AudioFile.Save(path, signal, WavSampleFormat.Float32);
            AudioSignal loaded = AudioFile.Load(path);

            Assert.Equal(signal.Samples, loaded.Samples);
            Assert.Equal(22050, loaded.SampleRate);
            Assert.Single(Directory.GetFiles(dir)); // no temporary file left behind
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_Stereo_AveragesChannels()
    {
        WavData stereo = WavFile.Read(TestData.Path("reference", "wav", "float32_stereo_48k.wav"));
        string dir = Directory.CreateTempSubdirectory("dls-wav").FullName;
        try
        {
            string path = Path.Combine(dir, "s.wav");
            WavFile.Write(path, stereo);

            AudioSignal mono = AudioFile.Load(path);

            Assert.Equal(48000, mono.SampleRate);
            for (int i = 0; i < mono.Length; i += 97)
            {
                Assert.Equal((stereo.GetChannel(0)[i] + stereo.GetChannel(1)[i]) / 2, mono.Samples[i], 1e-7f);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_WithRate_DownmixesThenResamplesToRoundedLength()
    {
        string path = TestData.Path("reference", "wav", "pcm24_stereo_44k.wav");

        AudioSignal signal = AudioFile.Load(path, sampleRate: 16000);

        Assert.Equal(16000, signal.SampleRate);
        Assert.Equal(4003, signal.Length); // round(11032 × 16000 / 44100) = round(4002.54)
        Assert.Throws<ArgumentOutOfRangeException>(() => AudioFile.Load(path, sampleRate: 0));
        Assert.Throws<ArgumentException>(() => AudioFile.Load(path, mono: false));
    }

    private static byte[] WriteToBytes(WavData data)
    {
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, data);
        return buffer.ToArray();
    }
}

public sealed class WavReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public void ReadFrames_SmallBlocks_SameAsWholeFile(int blockFrames)
    {
        string path = TestData.Path("reference", "wav", "pcm24_stereo_44k.wav");
        float[] whole = WavFile.Read(path).ToInterleaved();
        var streamed = new List<float>();

        using (var reader = new WavReader(path))
        {
            // A block that is not a whole number of frames: the reader fills only whole frames.
            var block = new float[(blockFrames * reader.Format.ChannelCount) + 1];
            int frames;
            while ((frames = reader.ReadFrames(block)) > 0)
            {
                streamed.AddRange(block.AsSpan(0, frames * reader.Format.ChannelCount).ToArray());
            }

            Assert.Equal(0, reader.FramesRemaining);
        }

        Assert.Equal(whole, streamed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ReadFrames_DestinationShorterThanOneFrame_ArgumentExceptionNotEndOfData(int length)
    {
        // 0 is the end-of-data signal: returning it while frames remain would end a read loop early without a word.
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, WavData.FromInterleaved(new float[10 * 4], 4, 16000, WavSampleFormat.Pcm16));
        buffer.Position = 0;
        using var reader = new WavReader(buffer);

        var ex = Assert.Throws<ArgumentException>(() => reader.ReadFrames(new float[length]));

        Assert.Equal("destination", ex.ParamName);
        Assert.Contains($"destination must hold at least one frame (4 samples); found {length}", ex.Message);
        Assert.Equal(10, reader.FramesRemaining);
    }

    [Fact]
    public void ReadFromAnOpenReader_EqualsReadingThePath_AndRefusesAReaderThatHasRead()
    {
        var rng = new Random(3);
        float[][] data = [Enumerable.Range(0, 5000).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), new float[5000]];
        using var file = new MemoryStream();
        WavFile.Write(file, new WavData(22050, data, WavSampleFormat.Pcm16));
        byte[] bytes = file.ToArray();

        using var reader = new WavReader(new MemoryStream(bytes));
        WavData fromReader = WavFile.Read(reader);
        WavData fromStream = WavFile.Read(new MemoryStream(bytes));
        Assert.Equal(fromStream.ToMono(), fromReader.ToMono());
        Assert.Equal(fromStream.GetChannel(0), fromReader.GetChannel(0));

        using var used = new WavReader(new MemoryStream(bytes));
        used.ReadFrames(new float[20]);   // 10 stereo frames
        var e = Assert.Throws<InvalidOperationException>(() => WavFile.Read(used));
        Assert.Contains("read none of its 5000 frames; found 10 read", e.Message);
    }

    [Fact]
    public void Constructor_WriteOnlyStream_ArgumentExceptionNamingIt()
    {
        using var sink = new WriteOnlyStream();

        var ex = Assert.Throws<ArgumentException>(() => new WavReader(sink));

        Assert.Equal("stream", ex.ParamName);
        Assert.Contains("The stream must be readable", ex.Message);
    }

    [Theory]
    [InlineData(24000, 16000, 2, 1.5)]
    [InlineData(44100, 44100, 1, 1.0)]
    [InlineData(0, 8000, 1, 0.0)]
    public void Duration_FramesAndRate_FramesDividedByRate(int frames, int rate, int channels, double seconds)
    {
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, WavData.FromInterleaved(new float[frames * channels], channels, rate, WavSampleFormat.Pcm16));
        buffer.Position = 0;

        using var reader = new WavReader(buffer);

        // Whole milliseconds: TimeSpan holds them exactly, so no tolerance is needed.
        Assert.Equal(TimeSpan.FromMilliseconds(seconds * 1000), reader.Duration);
        Assert.Equal(frames, reader.FrameCount);
    }

    [Fact]
    public void ReadFrames_FileCutShortAfterOpening_InvalidDataNamingTheFile()
    {
        // The size is checked against the file when the reader opens it; a file cut short later is only found while
        // reading, and a command reading many files must still say which one.
        string dir = Directory.CreateTempSubdirectory("dls-wav").FullName;
        try
        {
            string path = Path.Combine(dir, "cut.wav");
            WavFile.Write(path, new WavData(8000, [new float[100]], WavSampleFormat.Pcm16));   // 44 + 200 bytes
            using var reader = new WavReader(path);
            using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                writer.SetLength(44 + 60);   // 30 of the 100 samples left
            }

            var ex = Assert.Throws<InvalidDataException>(() => reader.ReadFrames(new float[100]));

            Assert.StartsWith($"'{path}': WAV data chunk is truncated", ex.Message);
            Assert.Contains("the header declares 200 bytes of samples, but the stream ended after 60", ex.Message);
            Assert.IsType<InvalidDataException>(ex.InnerException);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Dispose_Twice_ClosesTheStreamOnceAndRefusesReads()
    {
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, new WavData(8000, [new float[10]], WavSampleFormat.Pcm16));
        buffer.Position = 0;
        var reader = new WavReader(buffer, leaveOpen: false);

        reader.Dispose();
        reader.Dispose();

        Assert.False(buffer.CanRead);   // a disposed MemoryStream can no longer read
        Assert.Throws<ObjectDisposedException>(() => reader.ReadFrames(new float[4]));
    }
}

/// <summary>A write-only stream that cannot seek, like a pipe or a socket: it counts the bytes it is given and drops them.</summary>
internal sealed class WriteOnlyStream : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public long BytesWritten { get; private set; }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => BytesWritten += count;
}
