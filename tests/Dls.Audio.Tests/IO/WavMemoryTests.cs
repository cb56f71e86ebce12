using System.Buffers.Binary;
using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

/// <summary>Working buffers are sized in bytes, so a frame with many channels cannot blow them up.</summary>
public sealed class WavMemoryTests
{
    private const int Channels = ushort.MaxValue;

    // The result of reading or the input of writing is 65,535 one-sample arrays: about 2.6 MB with their object
    // headers and the array of references to them. 16 MiB leaves room for that, the 64 KiB working blocks and the
    // MemoryStream, and is still 250 times below the 4.3 GB a 16,384-frame block of 65,535 channels took.
    private const long AllocationBound = 16L << 20;

    /// <summary>One frame of 65,535 channels of 8-bit PCM: a 65,580-byte file, laid out field by field.</summary>
    private static byte[] OneFrameOfManyChannels(uint? declaredDataBytes = null)
    {
        const int dataBytes = Channels;                           // one byte per channel, one frame
        var bytes = new byte[44 + dataBytes + 1];
        Span<byte> h = bytes;
        "RIFF"u8.CopyTo(h);                                        // RIFF chunk id
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(bytes.Length - 8)); // RIFF size: everything after this field
        "WAVE"u8.CopyTo(h[8..]);                                   // form type
        "fmt "u8.CopyTo(h[12..]);                                  // fmt chunk id
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 16);     // fmt chunk size: plain WAVE_FORMAT_PCM
        BinaryPrimitives.WriteUInt16LittleEndian(h[20..], 1);      // wFormatTag: WAVE_FORMAT_PCM
        BinaryPrimitives.WriteUInt16LittleEndian(h[22..], Channels); // nChannels: the 16-bit maximum
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], 8000);   // nSamplesPerSec
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], 8000u * Channels); // nAvgBytesPerSec = rate × block align
        BinaryPrimitives.WriteUInt16LittleEndian(h[32..], Channels); // nBlockAlign: 65,535 channels × 1 byte
        BinaryPrimitives.WriteUInt16LittleEndian(h[34..], 8);      // wBitsPerSample: unsigned 8-bit
        "data"u8.CopyTo(h[36..]);                                  // data chunk id
        BinaryPrimitives.WriteUInt32LittleEndian(h[40..], declaredDataBytes ?? dataBytes); // data chunk size
        h.Slice(44, dataBytes).Fill(0xC0);                         // every sample (0xC0 − 128) / 128 = 0.5
        // The last byte stays 0: the pad byte after the odd-sized data chunk.
        return bytes;
    }

    [Fact]
    public void Read_OneFrameOf65535Channels_AllocatesLittle()
    {
        byte[] bytes = OneFrameOfManyChannels();
        Assert.Equal(65_580, bytes.Length);
        using var stream = new MemoryStream(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        WavData data = WavFile.Read(stream);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Channels, data.ChannelCount);
        Assert.Equal(1, data.FrameCount);
        Assert.Equal(0.5f, data.GetChannel(Channels - 1)[0]);
        Assert.True(allocated < AllocationBound, $"{allocated} bytes allocated to read a {bytes.Length}-byte file");
    }

    [Fact]
    public void Read_NonSeekableStreamDeclaringManyFramesOf65535Channels_TruncatedWithoutAllocating()
    {
        // The header claims 16,384 frames (1 GiB), the stream holds one: without a length to check, the first
        // allocation must not trust the header either.
        byte[] bytes = OneFrameOfManyChannels(declaredDataBytes: 16_384u * Channels);
        var stream = new NonSeekableStream(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<InvalidDataException>(() => WavFile.Read(stream));

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("1073725440", ex.Message);
        Assert.True(allocated < AllocationBound, $"{allocated} bytes allocated for a {bytes.Length}-byte stream");
    }

    [Fact]
    public void Write_OneFrameOf65535Channels_AllocatesLittle()
    {
        var channels = new float[Channels][];
        for (int c = 0; c < Channels; c++)
        {
            channels[c] = [0.5f];
        }

        var data = new WavData(8000, channels, WavSampleFormat.PcmU8);
        using var stream = new MemoryStream(128 << 10);
        long before = GC.GetAllocatedBytesForCurrentThread();

        WavFile.Write(stream, data);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(OneFrameOfManyChannels(), stream.ToArray());
        Assert.True(allocated < AllocationBound, $"{allocated} bytes allocated to write a 65,580-byte file");
    }
}
