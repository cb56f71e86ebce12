using System.Buffers.Binary;
using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

public sealed class WavFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-wavfile").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void WriteSamples_DefaultFormat_Pcm16MonoFileReadBackExactly()
    {
        string path = Path.Combine(dir, "mono.wav");
        // Multiples of 1/32768 are exact in 16-bit PCM, so the file must give them back bit for bit.
        float[] samples = [0f, 0.5f, -0.25f, 1f / 32768, -1f, 32767f / 32768];

        WavFile.Write(path, samples, 22050);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(44 + (2 * samples.Length), bytes.Length);                          // plain PCM header + 16-bit samples
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(20)));      // WAVE_FORMAT_PCM
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(22)));      // one channel
        Assert.Equal(22050, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(24)));   // sample rate
        Assert.Equal(16, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(34)));     // bits per sample
        Assert.Equal(16384, BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44 + 2))); // 0.5 × 32768
        WavData read = WavFile.Read(path);
        Assert.Equal(WavSampleFormat.Pcm16, read.SampleFormat);
        Assert.Equal(22050, read.SampleRate);
        Assert.Equal(samples, read.GetChannel(0));
        Assert.Equal([path], Directory.GetFiles(dir));                                  // no temporary file left
    }

    [Fact]
    public void WriteSamples_Float32_KeepsValuesPcmWouldRound()
    {
        string path = Path.Combine(dir, "float.wav");
        float[] samples = [0.1f, -0.3333333f, 1e-9f, 1.5f];   // not multiples of 1/32768, one beyond full scale

        WavFile.Write(path, samples, 8000, WavSampleFormat.Float32);

        WavData read = WavFile.Read(path);
        Assert.Equal(WavSampleFormat.Float32, read.SampleFormat);
        Assert.Equal(samples, read.GetChannel(0));
    }

    [Fact]
    public void WriteSamples_BadRate_ArgumentExceptionAndNoFile()
    {
        string path = Path.Combine(dir, "bad.wav");

        var ex = Assert.Throws<ArgumentException>(() => WavFile.Write(path, [0.5f], 0));

        Assert.Contains("SampleRate must be positive (Hz); found 0", ex.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void ReadInfo_DurationSeconds_FramesDividedByRate()
    {
        string path = Path.Combine(dir, "info.wav");
        WavFile.Write(path, new WavData(16000, [new float[24000], new float[24000]], WavSampleFormat.Pcm24));

        WavInfo info = WavFile.ReadInfo(path);

        Assert.Equal(24000, info.FrameCount);
        Assert.Equal(1.5, info.DurationSeconds);   // 24,000 frames / 16,000 Hz, exact in binary
    }
}
