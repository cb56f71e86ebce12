using System.Buffers.Binary;
using System.Text;
using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

/// <summary>One test per rejected header field; each checks the message names the field and the found value.</summary>
public sealed class WavMalformedTests
{
    /// <summary>Builds a WAV byte by byte so each test can break exactly one field.</summary>
    private sealed class WavBuilder
    {
        public string RiffId { get; init; } = "RIFF";

        public string FormType { get; init; } = "WAVE";

        public ushort FormatTag { get; init; } = 1;      // WAVE_FORMAT_PCM

        public ushort Channels { get; init; } = 1;

        public uint SampleRate { get; init; } = 16000;

        public ushort? BlockAlign { get; init; }          // null = channels × bits / 8

        public ushort Bits { get; init; } = 16;

        public byte[] FmtExtra { get; init; } = [];       // bytes after the 16 standard ones (cbSize …)

        public uint? FmtSize { get; init; }               // null = 16 + extra

        public uint? DataSize { get; init; }              // null = actual data length

        public byte[] Data { get; init; } = new byte[8];

        public List<(string Id, byte[] Body)> ChunksBeforeFmt { get; init; } = [];

        public bool DataBeforeFmt { get; init; }

        public bool OmitData { get; init; }

        public byte[] Build()
        {
            using var s = new MemoryStream();
            var w = new BinaryWriter(s);
            w.Write(Encoding.ASCII.GetBytes(RiffId));     // chunk id
            w.Write(0u);                                  // RIFF size, patched below
            w.Write(Encoding.ASCII.GetBytes(FormType));   // form type
            foreach ((string id, byte[] body) in ChunksBeforeFmt)
            {
                w.Write(Encoding.ASCII.GetBytes(id));
                w.Write((uint)body.Length);
                w.Write(body);
                if (body.Length % 2 == 1)
                {
                    w.Write((byte)0);                     // pad byte after an odd-sized chunk
                }
            }

            if (DataBeforeFmt)
            {
                WriteData(w);
            }

            w.Write("fmt "u8);
            w.Write(FmtSize ?? (uint)(16 + FmtExtra.Length));
            w.Write(FormatTag);                           // wFormatTag
            w.Write(Channels);                            // nChannels
            w.Write(SampleRate);                          // nSamplesPerSec
            w.Write(SampleRate * (uint)(BlockAlign ?? Channels * Bits / 8)); // nAvgBytesPerSec
            w.Write(BlockAlign ?? (ushort)(Channels * Bits / 8));           // nBlockAlign
            w.Write(Bits);                                // wBitsPerSample
            w.Write(FmtExtra);
            if (!DataBeforeFmt && !OmitData)
            {
                WriteData(w);
            }

            w.Flush();
            byte[] bytes = s.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
            return bytes;
        }

        private void WriteData(BinaryWriter w)
        {
            w.Write("data"u8);
            w.Write(DataSize ?? (uint)Data.Length);
            w.Write(Data);
        }
    }

    private static byte[] Extensible(ushort cbSize, ushort validBits, ushort subFormat, bool goodGuid = true)
    {
        var extra = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, cbSize);                 // cbSize
        BinaryPrimitives.WriteUInt16LittleEndian(extra.AsSpan(2), validBits);    // wValidBitsPerSample
        BinaryPrimitives.WriteUInt32LittleEndian(extra.AsSpan(4), 4);            // dwChannelMask (front centre)
        BinaryPrimitives.WriteUInt16LittleEndian(extra.AsSpan(8), subFormat);    // SubFormat GUID, first 2 bytes = tag
        byte[] tail = goodGuid
            ? [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
            : [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x72];
        tail.CopyTo(extra.AsSpan(10));
        return extra;
    }

    private static T Rejects<T>(byte[] bytes, params string[] fragments)
        where T : Exception
    {
        var seekable = Assert.Throws<T>(() => WavFile.Read(new MemoryStream(bytes)));
        foreach (string f in fragments)
        {
            Assert.Contains(f, seekable.Message);
        }

        return seekable;
    }

    [Fact]
    public void Read_WellFormedBuilderOutput_Accepted()
    {
        // Guards the builder itself: without any field broken it must produce a readable file.
        WavData data = WavFile.Read(new MemoryStream(new WavBuilder { Data = [0x00, 0x40, 0x00, 0xC0] }.Build()));

        Assert.Equal([0.5f, -0.5f], data.GetChannel(0));
    }

    [Fact]
    public void Read_NotRiff_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { RiffId = "JUNK" }.Build(), "RIFF chunk id", "'JUNK'");

    [Fact]
    public void Read_NotWave_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FormType = "AVI " }.Build(), "form type", "'AVI '");

    [Theory]
    [InlineData("RIFX")]
    [InlineData("RF64")]
    public void Read_OtherRiffFlavours_NotSupported(string id) =>
        Rejects<NotSupportedException>(new WavBuilder { RiffId = id }.Build(), id);

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(11)]
    public void Read_TruncatedRiffHeader_InvalidData(int length) =>
        Rejects<InvalidDataException>(new WavBuilder().Build()[..length], "truncated", $"found {length}");

    [Fact]
    public void Read_TruncatedFmtChunk_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder().Build()[..30], "truncated", "'fmt ' chunk");

    [Fact]
    public void Read_FmtChunkTooSmall_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FmtSize = 14 }.Build(), "'fmt ' chunk size", "found 14");

    [Fact]
    public void Read_FmtChunkAbsurdlyLarge_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FmtSize = 0x7FFF_0000 }.Build(), "'fmt ' chunk size", $"found {0x7FFF_0000}");

    [Fact]
    public void Read_DataBeforeFmt_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { DataBeforeFmt = true }.Build(), "chunk order");

    [Fact]
    public void Read_NoDataChunk_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { OmitData = true }.Build(), "no 'data' chunk");

    [Fact]
    public void Read_ZeroChannels_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { Channels = 0, BlockAlign = 2 }.Build(), "channel count", "found 0");

    [Fact]
    public void Read_ZeroSampleRate_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { SampleRate = 0 }.Build(), "sample rate", "found 0");

    [Fact]
    public void Read_SampleRateBeyondInt_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { SampleRate = 0x8000_0000 }.Build(), "sample rate", "found 2147483648");

    [Fact]
    public void Read_BlockAlignMismatch_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { Channels = 2, BlockAlign = 2 }.Build(), "block align", "expected 4", "found 2");

    [Fact]
    public void Read_PcmBitsNotByteSized_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { Bits = 12, BlockAlign = 2 }.Build(), "bits per sample", "found 12");

    [Fact]
    public void Read_FloatBits16_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FormatTag = 3, Bits = 16 }.Build(), "IEEE float", "found 16");

    [Theory]
    [InlineData(0x0006, "A-law")]
    [InlineData(0x0007, "µ-law")]
    [InlineData(0x0002, "ADPCM")]
    [InlineData(0x0011, "IMA ADPCM")]
    [InlineData(0x0031, "GSM 6.10")]
    [InlineData(0x0050, "(MPEG)")]
    [InlineData(0x0055, "MPEG layer 3")]
    [InlineData(0x1234, "unknown codec")]
    public void Read_CompressedCodec_NotSupported(int tag, string name) =>
        Rejects<NotSupportedException>(new WavBuilder { FormatTag = (ushort)tag, Bits = 8 }.Build(), $"0x{tag:X4}", name);

    [Fact]
    public void Read_ExtensibleFmtTooShort_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FormatTag = 0xFFFE, FmtExtra = [0, 0] }.Build(), "WAVE_FORMAT_EXTENSIBLE", "found 18");

    [Fact]
    public void Read_ExtensibleCbSizeTooSmall_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FormatTag = 0xFFFE, FmtExtra = Extensible(10, 16, 1) }.Build(), "cbSize", "found 10");

    [Fact]
    public void Read_ExtensibleValidBitsAboveContainer_InvalidData() =>
        Rejects<InvalidDataException>(new WavBuilder { FormatTag = 0xFFFE, FmtExtra = Extensible(22, 20, 1) }.Build(), "valid bits", "found 20");

    [Fact]
    public void Read_ExtensibleUnknownGuid_NotSupported() =>
        Rejects<NotSupportedException>(new WavBuilder { FormatTag = 0xFFFE, FmtExtra = Extensible(22, 16, 1, goodGuid: false) }.Build(), "GUID");

    [Fact]
    public void Read_ExtensibleALaw_NotSupported() =>
        Rejects<NotSupportedException>(new WavBuilder { FormatTag = 0xFFFE, Bits = 8, FmtExtra = Extensible(22, 8, 6) }.Build(), "A-law");

    [Fact]
    public void Read_ExtensiblePcm16_Accepted()
    {
        byte[] bytes = new WavBuilder { FormatTag = 0xFFFE, FmtExtra = Extensible(22, 16, 1), Data = [0x00, 0x20] }.Build();

        using var reader = new WavReader(new MemoryStream(bytes));

        Assert.True(reader.IsExtensible);
        Assert.Equal(WavSampleFormat.Pcm16, reader.Format.SampleFormat);
    }

    [Fact]
    public void Read_DataChunkLongerThanFile_InvalidDataWithoutAllocating()
    {
        // A 44-byte file claiming 4 GB of samples: rejected up front, and nothing near that size is allocated.
        byte[] bytes = new WavBuilder { DataSize = 0xFFFF_FFF0, Data = [] }.Build();
        Assert.Equal(44, bytes.Length);
        long before = GC.GetAllocatedBytesForCurrentThread();

        Rejects<InvalidDataException>(bytes, "'data' chunk size", "4294967280", "only 0 remain");

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "more than 1 MiB allocated for a 44-byte file");
    }

    [Fact]
    public void Read_DataChunkLongerThanNonSeekableStream_InvalidDataWithoutAllocating()
    {
        // Without a length to check against, the reader must still not trust the header with its allocations.
        byte[] bytes = new WavBuilder { DataSize = 0x7FFF_FFF0, Data = [1, 2, 3, 4] }.Build();
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<InvalidDataException>(() => WavFile.Read(new NonSeekableStream(bytes)));

        Assert.Contains("truncated", ex.Message);
        Assert.Contains("2147483632", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "more than 4 MiB allocated for a 48-byte stream");
    }

    [Fact]
    public void Read_NonSeekableStreamDeclaringMoreFramesThanAnArrayHolds_NotSupportedWithoutAllocating()
    {
        // 0xFFFFFFF0 bytes of 16-bit mono are 2,147,483,640 frames, more than Array.MaxLength (2,147,483,591): no single
        // channel array can take them, whatever the stream really holds, so the whole-file read refuses before reading.
        byte[] bytes = new WavBuilder { DataSize = 0xFFFF_FFF0, Data = [1, 2, 3, 4] }.Build();
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<NotSupportedException>(() => WavFile.Read(new NonSeekableStream(bytes)));

        Assert.Contains("holds 2147483640 frames per channel, more than one array can", ex.Message);
        Assert.Contains("read it in blocks with WavReader", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "more than 1 MiB allocated for a 48-byte stream");
    }

    [Fact]
    public void Read_UnknownChunkLongerThanFile_InvalidData()
    {
        byte[] bytes = new WavBuilder { ChunksBeforeFmt = [("LIST", new byte[4])] }.Build();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 1_000_000); // LIST size field

        Rejects<InvalidDataException>(bytes, "'LIST' chunk size", "1000000");
        Assert.Throws<InvalidDataException>(() => WavFile.Read(new NonSeekableStream(bytes)));
    }

    [Fact]
    public void Read_UnknownSizeOnNonSeekableStream_InvalidData()
    {
        byte[] bytes = new WavBuilder { DataSize = uint.MaxValue }.Build();

        var ex = Assert.Throws<InvalidDataException>(() => WavFile.Read(new NonSeekableStream(bytes)));

        Assert.Contains("0xFFFFFFFF", ex.Message);
    }

    [Fact]
    public void Read_UnknownSizeOnSeekableStream_ReadsToEnd()
    {
        byte[] bytes = new WavBuilder { DataSize = uint.MaxValue, Data = [0x00, 0x40, 0x00, 0xC0] }.Build();

        Assert.Equal([0.5f, -0.5f], WavFile.Read(new MemoryStream(bytes)).GetChannel(0));
    }

    [Fact]
    public void Read_OddSizedUnknownChunks_SkippedWithPadByte()
    {
        byte[] bytes = new WavBuilder
        {
            ChunksBeforeFmt = [("LIST", new byte[5]), ("bext", new byte[3]), ("fact", new byte[4])],
            Data = [0x00, 0x40, 0x00, 0xC0],
        }.Build();

        Assert.Equal([0.5f, -0.5f], WavFile.Read(new MemoryStream(bytes)).GetChannel(0));
        Assert.Equal([0.5f, -0.5f], WavFile.Read(new NonSeekableStream(bytes)).GetChannel(0));
    }

    [Fact]
    public void ReadFrames_PartialTrailingFrameIgnored()
    {
        // 5 data bytes of 16-bit mono: two whole frames and one stray byte.
        byte[] bytes = new WavBuilder { Data = [0x00, 0x40, 0x00, 0xC0, 0x11] }.Build();

        Assert.Equal(2, WavFile.Read(new MemoryStream(bytes)).FrameCount);
    }

    [Fact]
    public void Read_MalformedFileOnDisk_MessageStartsWithItsPath()
    {
        // A command reading many files (denoise a folder, evaluate a dataset) must say which one is broken.
        string path = Path.Combine(Path.GetTempPath(), $"dls-truncated-{Guid.NewGuid():N}.wav");
        byte[] bytes = new WavBuilder { Data = new byte[64] }.Build();
        File.WriteAllBytes(path, bytes[..60]);   // the data chunk declares 64 bytes; 16 remain
        string unsupported = path + ".alaw.wav";
        File.WriteAllBytes(unsupported, new WavBuilder { FormatTag = 6, Bits = 8 }.Build());
        try
        {
            var truncated = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));
            Assert.StartsWith($"'{path}': WAV 'data' chunk size: the header declares 64 bytes, but only 16 remain", truncated.Message);
            Assert.IsType<InvalidDataException>(truncated.InnerException);

            var alaw = Assert.Throws<NotSupportedException>(() => new WavReader(unsupported));
            Assert.StartsWith($"'{unsupported}': WAV format tag 0x0006", alaw.Message);
        }
        finally
        {
            File.Delete(path);
            File.Delete(unsupported);
        }
    }
}
