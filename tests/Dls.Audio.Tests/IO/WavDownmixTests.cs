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
