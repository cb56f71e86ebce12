using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

/// <summary><see cref="WavData.DownmixInterleaved"/> is <see cref="WavData.ToMono"/> for data read block by block.</summary>
public sealed class WavDownmixTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void DownmixInterleaved_BlockByBlock_EqualsToMonoBitForBit(int channels)
    {
        var rng = new Random(channels);
        float[][] data = Enumerable.Range(0, channels)
            .Select(_ => Enumerable.Range(0, 1001).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var wav = new WavData(16000, data);
        float[] interleaved = wav.ToInterleaved();

        // Blocks of 64 frames and a last partial one, as a reader hands them out.
        var mono = new List<float>();
        var block = new float[64];
        for (int frame = 0; frame < 1001; frame += 64)
        {
            int frames = Math.Min(64, 1001 - frame);
            int written = WavData.DownmixInterleaved(interleaved.AsSpan(frame * channels, frames * channels), channels, block);
            Assert.Equal(frames, written);
            mono.AddRange(block.AsSpan(0, written));
        }

        // Exact equality: the same additions in the same order, so the same float rounding.
        Assert.Equal(wav.ToMono(), mono.ToArray());
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 100)]
    [InlineData(3, 7)]
    [InlineData(5000, 64)]   // a file's frame is larger than the reader's 64-KiB scratch can hold many of
    public void ReadMonoFrames_BlockByBlock_EqualsToMonoOfTheWholeFile(int channels, int blockFrames)
    {
        var rng = new Random(channels);
        int frames = channels > 100 ? 300 : 20_001;
        float[][] data = Enumerable.Range(0, channels)
            .Select(_ => Enumerable.Range(0, frames).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var wav = new WavData(16000, data);
        using var file = new MemoryStream();
        WavFile.Write(file, wav);
        file.Position = 0;
        using var reader = new WavReader(file);

        var mono = new List<float>();
        var block = new float[blockFrames];
        int read;
        while ((read = reader.ReadMonoFrames(block)) > 0)
        {
            mono.AddRange(block.AsSpan(0, read));
        }

        // Float32 storage round-trips exactly, and the downmix is the same arithmetic: equal to the bit.
        Assert.Equal(wav.ToMono(), mono.ToArray());
        Assert.Throws<ArgumentException>(() => reader.ReadMonoFrames(Span<float>.Empty));
    }

    [Fact]
    public void DownmixInterleaved_BadArguments_SayWhatWasExpected()
    {
        var mono = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => WavData.DownmixInterleaved(new float[4], 0, mono));
        var partial = Assert.Throws<ArgumentException>(() => WavData.DownmixInterleaved(new float[5], 2, mono));
        Assert.Contains("whole frames of 2 samples; found 5", partial.Message);
        var small = Assert.Throws<ArgumentException>(() => WavData.DownmixInterleaved(new float[10], 2, mono));
        Assert.Contains("room for 5 samples; found 4", small.Message);
        var shared = new float[8];
        var overlap = Assert.Throws<ArgumentException>(() => WavData.DownmixInterleaved(shared, 2, shared));
        Assert.Contains("overlapping", overlap.Message);
    }
}
