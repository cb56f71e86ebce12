namespace Dls.Audio.Tests;

public sealed class SampleWindowTests
{
    [Fact]
    public void AppendAndDiscard_RandomUse_AlwaysHoldsTheStreamSamplesByIndex()
    {
        // Against a plain list of the whole stream: after every random append and discard, every kept index reads the
        // stream's sample, and the window keeps exactly [max(discard point), end).
        var rng = new Random(3);
        var stream = new List<float>();
        var window = new SampleWindow(0, 4);
        long start = 0;   // what the window should keep from: a discard point is clamped to the samples present
        for (int step = 0; step < 400; step++)
        {
            float[] block = Enumerable.Range(0, rng.Next(0, 300)).Select(_ => (float)rng.NextDouble()).ToArray();
            window.Append(block);
            stream.AddRange(block);
            if (rng.Next(3) == 0)
            {
                long point = rng.NextInt64(start - 20, stream.Count + 50);
                window.DiscardBefore(point);
                start = Math.Clamp(point, start, stream.Count);
            }

            Assert.Equal(start, window.Start);
            Assert.Equal(stream.Count, window.End);
            Assert.Equal(stream.Skip((int)start).ToArray(), window.Slice(start, window.Count).ToArray());
            if (window.Count > 0)
            {
                long i = rng.NextInt64(window.Start, window.End);
                Assert.Equal(stream[(int)i], window[i]);
            }
        }
    }

    [Fact]
    public void Constructor_NegativeStart_IndexesFromThere()
    {
        var window = new SampleWindow(startIndex: -3);
        window.Append([1f, 2f, 3f, 4f, 5f]);

        Assert.Equal(1f, window[-3]);
        Assert.Equal(4f, window[0]);
        Assert.Equal(2, window.End);
        Assert.Equal([3f, 4f], window.Slice(-1, 2).ToArray());
    }

    [Fact]
    public void Slice_DiscardedOrNotYetAppended_ThrowsNamingTheKeptRange()
    {
        var window = new SampleWindow();
        window.Append(new float[100]);
        window.DiscardBefore(40);

        var before = Assert.Throws<ArgumentOutOfRangeException>(() => window.Slice(30, 20));
        Assert.Contains("kept stream indices [40, 100); asked for [30, 50)", before.Message);
        var after = Assert.Throws<ArgumentOutOfRangeException>(() => window[100]);
        Assert.Contains("asked for [100, 101)", after.Message);
    }

    [Fact]
    public void DiscardBefore_PastTheEnd_EmptiesAndKeepsCounting()
    {
        var window = new SampleWindow();
        window.Append([1f, 2f]);
        window.DiscardBefore(10);

        Assert.Equal(0, window.Count);
        Assert.Equal(2, window.Start);   // only what was there can be discarded: the next sample is still index 2
        window.Append([7f]);
        Assert.Equal(7f, window[2]);
    }

    [Fact]
    public void DiscardBefore_ExtremeIndices_NothingOrEverything()
    {
        var window = new SampleWindow(1);
        window.Append([1f, 2f, 3f]);
        window.DiscardBefore(long.MinValue);
        Assert.Equal(3, window.Count);

        var other = new SampleWindow(-5);
        other.Append([1f, 2f, 3f]);
        other.DiscardBefore(long.MaxValue);
        Assert.Equal(0, other.Count);
    }

    [Fact]
    public void Append_ItsOwnSlice_AppendsTheValues()
    {
        // The slice is moved by the compaction the append needs: the window takes a copy first.
        var window = new SampleWindow(0, 9);
        window.Append([0f, 1f, 2f, 3f, 4f, 5f]);
        window.DiscardBefore(2);

        window.Append(window.Slice(2, 4));

        Assert.Equal([2f, 3f, 4f, 5f, 2f, 3f, 4f, 5f], window.Slice(2, 8).ToArray());
    }

    [Fact]
    public void Constructor_NegativeCapacity_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleWindow(0, -1));
}
