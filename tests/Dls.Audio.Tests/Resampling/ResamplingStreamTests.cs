using Dls.Audio.IO;
using Dls.Audio.Resampling;

namespace Dls.Audio.Tests.Resampling;

public sealed class ResamplingStreamTests
{
    private static float[] Noise(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
    }

    private static float[] Streamed(Resampler resampler, float[] input, int blockSize, out ResamplingStream stream)
    {
        var output = new List<float>();
        stream = resampler.CreateStream(s => output.AddRange(s));
        for (int start = 0; start < input.Length; start += blockSize)
        {
            stream.Push(input.AsSpan(start, Math.Min(blockSize, input.Length - start)));
        }

        stream.Complete();
        return [.. output];
    }

    // Exact equality, no tolerance: the stream computes each output sample with the same code, weights and input values
    // as the whole-signal call, so any difference at all is a bug (a wrong window, a missing zero, a lost sample).
    [Theory]
    [InlineData(48000, 16000)]
    [InlineData(44100, 16000)]
    [InlineData(16000, 44100)]
    [InlineData(8000, 16000)]
    [InlineData(16000, 22050)]
    [InlineData(22050, 8000)]
    [InlineData(16000, 16000)]
    public void Push_AnyBlockSize_BitEqualToWholeSignal(int inRate, int outRate)
    {
        var resampler = new Resampler(inRate, outRate);
        foreach (int length in new[] { 0, 1, 2, 17, 1000, inRate + 7 })
        {
            float[] input = Noise(length, length);
            float[] whole = resampler.Process(input);
            foreach (int block in new[] { 1, 7, 511, 4096, Math.Max(1, length) })
            {
                if (block == 1 && length > 2000)
                {
                    continue;   // one-sample blocks are covered by the shorter signals; keeps the test quick
                }

                float[] streamed = Streamed(resampler, input, block, out var stream);
                Assert.True(whole.AsSpan().SequenceEqual(streamed),
                    $"{inRate}→{outRate} Hz, {length} samples in blocks of {block}: {streamed.Length} samples streamed, {whole.Length} whole; " +
                    $"first difference at {FirstDifference(whole, streamed)}");
                Assert.Equal(length, stream.SamplesIn);
                Assert.Equal(whole.Length, stream.SamplesOut);
            }
        }
    }

    [Fact]
    public void Push_FilterWithoutPhaseTable_BitEqualToWholeSignal()
    {
        // 44100 → 44099 Hz: 44,099 phases, too many to tabulate, so each output's weights are computed on the fly.
        var resampler = new Resampler(44100, 44099);
        float[] input = Noise(3000, 5);
        Assert.True(resampler.Process(input).AsSpan().SequenceEqual(Streamed(resampler, input, 333, out _)));
    }

    [Fact]
    public void Push_LongSignal_KeepsOnlyAWindowOfInput()
    {
        // Output arrives while input does: after each block all but about one filter window of output is out.
        var resampler = new Resampler(44100, 16000);
        long received = 0;
        var stream = resampler.CreateStream(s => received += s.Length);
        float[] block = Noise(4410, 1);
        for (int i = 1; i <= 100; i++)
        {
            stream.Push(block);
            long expected = Resampler.OutputLength(i * 4410L, 44100, 16000);
            long behind = expected - received;
            // One window is TapsPerOutputSample input samples: at most that many × 16000/44100 outputs (+1 for rounding).
            Assert.InRange(behind, 0, (resampler.TapsPerOutputSample * 16000 / 44100) + 1);
        }
    }

    [Fact]
    public void CreateStream_ReadmeExampleFileToFile_WritesTheWholeFileResampled()
    {
        // The block-by-block example of Dls.Audio/README.md, as written there (paths aside): a stereo 44.1-kHz file of
        // several read blocks, resampled to 16 kHz as it streams. Compared with loading the whole file and resampling it,
        // then writing both as 16-bit PCM: byte for byte, since the samples are bit-equal.
        string dir = Directory.CreateTempSubdirectory("dls-resampling-stream").FullName;
        try
        {
            float[] left = Noise(150_001, 1), right = Noise(150_001, 2);
            WavFile.Write(Path.Combine(dir, "long-44k.wav"), new WavData(44100, [left, right], WavSampleFormat.Float32));

            using (var reader = new WavReader(Path.Combine(dir, "long-44k.wav")))
            {
                long frames = Resampler.OutputLength(reader.FrameCount, reader.Format.SampleRate, 16000);
                using var writer = new WavWriter(File.Create(Path.Combine(dir, "long-16k.wav")), new WavFormat(16000, 1, WavSampleFormat.Pcm16), frames);
                ResamplingStream stream = new Resampler(reader.Format.SampleRate, 16000).CreateStream(s => writer.WriteFrames(s));
                var block = new float[65536];
                int n;
                while ((n = reader.ReadMonoFrames(block)) > 0)
                {
                    stream.Push(block.AsSpan(0, n));
                }
                stream.Complete();
            }

            AudioFile.Save(Path.Combine(dir, "expected.wav"), AudioFile.Load(Path.Combine(dir, "long-44k.wav"), sampleRate: 16000), WavSampleFormat.Pcm16);
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "expected.wav")), File.ReadAllBytes(Path.Combine(dir, "long-16k.wav")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Push_OneHugeBlock_KeepsOneWindowAndOnePiece()
    {
        // A block of 2,000,000 samples is taken 4,096 samples at a time: afterwards the stream keeps less than one
        // window plus one piece, and later small pushes do not keep more (the bound is on what is kept, not on blocks).
        var resampler = new Resampler(44100, 16000);
        var stream = resampler.CreateStream(_ => { });
        int bound = resampler.TapsPerOutputSample + 64 + Math.Max(4096, resampler.TapsPerOutputSample + 64);

        stream.Push(Noise(2_000_000, 9));
        Assert.InRange(stream.KeptSamples, 0, bound);
        for (int i = 0; i < 100; i++)
        {
            stream.Push(Noise(100, i));
            Assert.InRange(stream.KeptSamples, 0, bound);
        }
    }

    [Fact]
    public void Push_AfterComplete_Throws()
    {
        var stream = new Resampler(48000, 16000).CreateStream(_ => { });
        stream.Push(new float[10]);
        stream.Complete();
        stream.Complete();   // a second call does nothing
        var error = Assert.Throws<InvalidOperationException>(() => stream.Push(new float[1]));
        Assert.Contains("Complete() was already called", error.Message);
    }

    [Fact]
    public void Push_EmptyBlock_NothingCountedOrHandedOn()
    {
        int calls = 0;
        var stream = new Resampler(48000, 16000).CreateStream(_ => calls++);
        int kept = stream.KeptSamples;   // the zeros before the signal start that the first outputs reach back to

        stream.Push([]);

        Assert.Equal(0, calls);
        Assert.Equal(0, stream.SamplesIn);
        Assert.Equal(0, stream.SamplesOut);
        Assert.Equal(kept, stream.KeptSamples);
    }

    [Fact]
    public void CreateStream_NullSink_ThrowsNamingIt() =>
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => new Resampler(48000, 16000).CreateStream(null!)).ParamName);

    private static int FirstDifference(float[] a, float[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
            {
                return i;
            }
        }

        return n;
    }
}
