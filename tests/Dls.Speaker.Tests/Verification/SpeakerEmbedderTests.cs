using Dls.Speaker.Verification;
using TorchSharp;

namespace Dls.Speaker.Tests.Verification;

[Collection("TorchGlobalState")]
public sealed class SpeakerEmbedderTests
{
    private static SpeakerEmbedder Create(SpeakerEmbedderOptions? options = null) => new(TestModels.Random(), options);

    [Fact]
    public void Embed_Utterance_IsUnitLength()
    {
        using var embedder = Create();
        var e = embedder.Embed(TestAudio.Voice(150, 1, 1.0, 1), TestAudio.Rate);
        Assert.Equal(6, e.Length);
        // float32 normalization: 1e-5.
        Assert.Equal(1.0, Math.Sqrt(e.Sum(v => (double)v * v)), 1e-5);
    }

    [Fact]
    public void Embed_TooShortSilentOrNaN_ThrowsClearArgumentException()
    {
        using var embedder = Create();
        var shortEx = Assert.Throws<ArgumentException>(() => embedder.Embed(new float[4000], TestAudio.Rate));
        Assert.Contains("too short", shortEx.Message);
        Assert.Contains("8000 samples", shortEx.Message);
        Assert.Contains("found 4000", shortEx.Message);

        var silentEx = Assert.Throws<ArgumentException>(() => embedder.Embed(new float[16000], TestAudio.Rate));
        Assert.Contains("silent", silentEx.Message);

        var withNaN = TestAudio.Voice(150, 1, 1.0, 1);
        withNaN[1234] = float.NaN;
        var nanEx = Assert.Throws<ArgumentException>(() => embedder.Embed(withNaN, TestAudio.Rate));
        Assert.Contains("index 1234", nanEx.Message);

        Assert.Throws<ArgumentException>(() => embedder.Embed(TestAudio.Voice(150, 1, 1.0, 1), 0));
    }

    [Fact]
    public void Embed_ShorterThanOneStftFrame_ThrowsTooShort()
    {
        // A minimum duration below one STFT frame is a valid option; such audio used to be embedded from a single frame of
        // reflect padding.
        using var embedder = Create(new SpeakerEmbedderOptions { MinDurationSeconds = 0.01 });
        var clip = TestAudio.Voice(150, 1, 0.02, 1);
        var one = Assert.Throws<ArgumentException>(() => embedder.Embed(clip, TestAudio.Rate));
        Assert.Contains($"The audio is too short: expected more than 512 samples for one STFT frame (n_fft 1024), found {clip.Length} at 16000 Hz.", one.Message);
        var many = Assert.Throws<ArgumentException>(() => embedder.EmbedMany([TestAudio.Voice(150, 1, 1.0, 1), clip], TestAudio.Rate));
        Assert.Contains("The utterance 1 is too short", many.Message);
    }

    [Fact]
    public void Embed_LongAudio_AveragesWindowsToUnitLength()
    {
        using var embedder = Create(new SpeakerEmbedderOptions { WindowSeconds = 1.0, MaxWindowsPerBatch = 2 });
        // 5 s with 1 s windows at 50 % overlap: windows at 0, 0.5, …, 4 s, embedded two at a time.
        var e = embedder.Embed(TestAudio.Voice(150, 1, 5.0, 3), TestAudio.Rate);
        Assert.Equal(1.0, Math.Sqrt(e.Sum(v => (double)v * v)), 1e-5);
        // A periodic signal looks the same in every window, so the average stays close to a single window's embedding.
        var single = embedder.Embed(TestAudio.Voice(150, 1, 1.0, 3), TestAudio.Rate);
        Assert.True(SpeakerEmbeddings.Cosine(e, single) > 0.9, "window average far from a window's embedding");
    }

    [Fact]
    public void Embed_LongAudio_IsTheNormalizedSumOfItsWindowsEmbeddings()
    {
        // 5.2 s, 1 s windows every 0.5 s plus one aligned to the end (10 windows), three per batch (the last batch holds
        // one): each window embedded on its own must add up to the long call's result. Tolerance 1e-4: a window alone
        // runs the single-utterance recurrence, a batch torch's GRU; the two agree to 1e-5 per value (GruRecurrence
        // tests), and ten of them are summed before normalizing.
        using var embedder = Create(new SpeakerEmbedderOptions { WindowSeconds = 1.0, MaxWindowsPerBatch = 3 });
        float[] audio = TestAudio.Voice(130, 1, 5.2, 4);
        int window = TestAudio.Rate;
        var starts = Enumerable.Range(0, 9).Select(i => i * window / 2).Append(audio.Length - window).ToArray();
        var sum = new double[embedder.EmbeddingSize];
        foreach (int start in starts)
        {
            float[] e = embedder.Embed(audio.AsSpan(start, window), TestAudio.Rate);
            for (int i = 0; i < sum.Length; i++) sum[i] += e[i];
        }

        double norm = Math.Sqrt(sum.Sum(v => v * v));
        var expected = sum.Select(v => (float)(v / norm)).ToArray();
        Assert.Equal(expected, embedder.Embed(audio, TestAudio.Rate), (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Theory]
    [InlineData(1, 16, TestAudio.Rate)]   // 9.3 s in 1-s windows: 18 windows, a batch of 16 and one of 2
    [InlineData(2, 3, TestAudio.Rate)]    // stereo, batches of 3 (the last one partial)
    [InlineData(1, 16, 44100)]            // the same samples declared at 44.1 kHz: 3.4 s, resampled as they are read
    [InlineData(2, 5, 8000)]              // … at 8 kHz: 18.6 s, upsampled as they are read
    public void EmbedFile_LongerThanAWindow_EqualsEmbedOfTheLoadedFileBitForBit(int channels, int windowsPerBatch, int rate)
    {
        // Read (and resampled) block by block and embedded window batch by window batch, without the whole recording in
        // memory; the batches and the samples in them are those of the whole-signal path, so the result is the same to
        // the bit.
        using var tree = new Data.TempTree();
        string path = Path.Combine(tree.Root, "long.wav");
        float[][] data = Enumerable.Range(0, channels).Select(c => TestAudio.Voice(120 + (30 * c), 1, 9.3, 5 + c)).ToArray();
        Dls.Audio.IO.WavFile.Write(path, new Dls.Audio.IO.WavData(rate, data, Dls.Audio.IO.WavSampleFormat.Float32));
        using var embedder = Create(new SpeakerEmbedderOptions { WindowSeconds = 1.0, MaxWindowsPerBatch = windowsPerBatch });

        float[] streamed = embedder.EmbedFile(path);

        Assert.Equal(embedder.Embed(Dls.Audio.IO.AudioFile.Load(path).Samples, rate), streamed);
    }

    [Theory]
    [InlineData(44100, 3)]
    [InlineData(8000, 16)]
    public void Embed_LongArrayAtAnotherRate_EqualsEmbeddingTheWholeResampledArrayBitForBit(int rate, int windowsPerBatch)
    {
        // Resampled block by block while its windows are collected, instead of as one whole copy: the windows are those of
        // the whole array resampled first (Resampler.Resample, then the model-rate path), so the result is the same bits.
        float[] voice = TestAudio.Voice(140, 1, 9.3, 7);   // 9.3 s of samples, declared at another rate
        using var embedder = Create(new SpeakerEmbedderOptions { WindowSeconds = 1.0, MaxWindowsPerBatch = windowsPerBatch });

        float[] streamed = embedder.Embed(voice, rate);

        Assert.Equal(embedder.Embed(Dls.Audio.Resampling.Resampler.Resample(voice, rate, TestAudio.Rate), TestAudio.Rate), streamed);
    }

    [Fact]
    public void EmbedFile_LongFileWithANaNOrSilent_RefusedAsTheWholeSignalWouldBe()
    {
        using var tree = new Data.TempTree();
        using var embedder = Create(new SpeakerEmbedderOptions { WindowSeconds = 1.0 });
        float[] voice = TestAudio.Voice(120, 1, 5.0, 6);
        voice[70_000] = float.NaN;   // in the second block of 65,536 samples
        string nan = Path.Combine(tree.Root, "nan.wav");
        Dls.Audio.IO.WavFile.Write(nan, new Dls.Audio.IO.WavData(TestAudio.Rate, [voice], Dls.Audio.IO.WavSampleFormat.Float32));
        string silent = Path.Combine(tree.Root, "silent.wav");
        Dls.Audio.IO.WavFile.Write(silent, new Dls.Audio.IO.WavData(TestAudio.Rate, [new float[80_000]], Dls.Audio.IO.WavSampleFormat.Float32));

        var e = Assert.Throws<ArgumentException>(() => embedder.EmbedFile(nan));
        Assert.Contains($"The file '{nan}' contains a non-finite sample (NaN) at index 70000", e.Message);
        var quiet = Assert.Throws<ArgumentException>(() => embedder.EmbedFile(silent));
        Assert.Contains($"The file '{silent}' is silent", quiet.Message);
    }

    [Fact]
    public void EmbedAndEmbedFile_RateAboveTheResamplersLimit_ThrowNamingTheLimit()
    {
        // The resampler takes at most 100,000 × the model's 16 kHz to it; a 16-bit mono file can declare 1.7 GHz.
        using var tree = new Data.TempTree();
        using var embedder = Create();
        float[] voice = TestAudio.Voice(120, 1, 2.0, 6);
        string fast = Path.Combine(tree.Root, "fast.wav");
        Dls.Audio.IO.WavFile.Write(fast, new Dls.Audio.IO.WavData(1_700_000_000, [voice], Dls.Audio.IO.WavSampleFormat.Pcm16));

        var call = Assert.Throws<ArgumentOutOfRangeException>(() => embedder.Embed(voice, 1_700_000_000));
        var file = Assert.Throws<NotSupportedException>(() => embedder.EmbedFile(fast));

        Assert.Equal("sampleRate", call.ParamName);
        Assert.Contains("Sample rate must be at most 1600000000 Hz (100000 × the model's 16000 Hz, the resampler's limit), found 1700000000", call.Message);
        Assert.Contains($"The file '{fast}' is sampled at 1700000000 Hz; expected at most 1600000000 Hz", file.Message);
    }

    [Fact]
    public void Embed_BatchAboveTheSpanLimit_ThrowsNamingTheOptionsToLower()
    {
        // The real limit (2 GiB of samples in one batch) needs 60-s windows × 560 per batch, about 9 hours of audio; the
        // same check with the limit lowered to 2.5 one-second windows: a 5-s recording makes batches of 4 windows.
        using var embedder = new SpeakerEmbedder(TestModels.Random(), new SpeakerEmbedderOptions { WindowSeconds = 1.0, MaxWindowsPerBatch = 4 })
        {
            MaxBatchSamples = 40_000,
        };
        float[] voice = TestAudio.Voice(120, 1, 5.0, 6);

        var e = Assert.Throws<ArgumentException>(() => embedder.Embed(voice, TestAudio.Rate));

        Assert.Equal("samples", e.ParamName);
        Assert.Contains("A batch of 4 windows of 16000 samples is 64000 samples; expected at most 40000 (2 GiB; lower SpeakerEmbedderOptions.MaxWindowsPerBatch or WindowSeconds)", e.Message);
        Assert.Equal(embedder.Embed(voice.AsSpan(0, 16_000), TestAudio.Rate).Length, embedder.EmbeddingSize);   // one window: no batch
    }

    [Fact]
    public void Embed_ModelWithEmbeddingMean_ReturnsCenteredEmbeddings()
    {
        float[] mean = [0.1f, -0.2f, 0.05f, 0.3f, 0f, -0.1f];
        using var plain = Create();
        using var centered = new SpeakerEmbedder(TestModels.Random() with { EmbeddingMean = mean });
        var shortClip = TestAudio.Voice(150, 1, 1.0, 1);
        var longClip = TestAudio.Voice(140, 1, 5.0, 2);   // longer than the default window: the averaged path
        foreach (var x in new[] { shortClip, longClip })
        {
            // Same weights (same seed), so the centered embedding is the plain one centered; float32 rounding 1e-5.
            var expected = SpeakerEmbeddings.Center(plain.Embed(x, TestAudio.Rate), mean);
            Assert.Equal(expected, centered.Embed(x, TestAudio.Rate), (a, b) => Math.Abs(a - b) < 1e-5);
        }
        var many = centered.EmbedMany([shortClip, longClip], TestAudio.Rate);
        Assert.Equal(centered.Embed(shortClip, TestAudio.Rate), many[0], (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(centered.Embed(longClip, TestAudio.Rate), many[1], (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Constructor_EmbeddingMeanOfWrongLength_ThrowsWithSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => new SpeakerEmbedder(TestModels.Random() with { EmbeddingMean = [0f, 0f] }));
        Assert.Contains("2 values", e.Message);
        Assert.Contains("embeddings of 6", e.Message);
    }

    [Fact]
    public void EmbedMany_MatchesOneByOne()
    {
        using var embedder = Create();
        var a = TestAudio.Voice(120, 1, 0.7, 1);
        var b = TestAudio.Voice(220, 2, 1.3, 2);
        var many = embedder.EmbedMany([a, b], TestAudio.Rate);
        // Batched (packed) vs single forward: float32 summation-order differences only.
        Assert.Equal(embedder.Embed(a, TestAudio.Rate), many[0], (x, y) => Math.Abs(x - y) < 1e-5);
        Assert.Equal(embedder.Embed(b, TestAudio.Rate), many[1], (x, y) => Math.Abs(x - y) < 1e-5);
    }

    [Fact]
    public void Embed_OtherSampleRate_IsResampled()
    {
        using var embedder = Create();
        var at8k = TestAudio.Voice(150, 1, 1.0, 1).Where((_, i) => i % 2 == 0).ToArray();
        Assert.Equal(6, embedder.Embed(at8k, 8000).Length);
    }

    [Fact]
    public void Embed_ManyThreads_SameResultsAndNoLeak()
    {
        using var embedder = Create();
        var x = TestAudio.Voice(150, 1, 1.0, 1);
        var expected = embedder.Embed(x, TestAudio.Rate);
        var results = new float[8][];
        Parallel.For(0, results.Length, i => results[i] = embedder.Embed(x, TestAudio.Rate));
        Assert.All(results, r => Assert.Equal(expected, r));

        for (int i = 0; i < 3; i++) embedder.Embed(x, TestAudio.Rate);   // warm-up
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) embedder.Embed(x, TestAudio.Rate);
        embedder.Embed(TestAudio.Voice(150, 1, 4.0, 2), TestAudio.Rate);      // windowed path too
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ShippedModel_RepeatedAndConcurrentCalls_BitIdentical()
    {
        // The shipped encoder on all three paths (one utterance: managed recurrence; a batch: torch's GRU; a long
        // utterance: windows), called again serially and from four threads at once, each call on new managed copies.
        // Same data, same operations, so the tolerance is zero: what a caller gets must not depend on when, from which
        // thread or from which array it calls.
        using var embedder = new SpeakerEmbedder(DefaultSpeakerModel.Load());
        var utterances = Enumerable.Range(0, 4).Select(i => TestAudio.Voice(120 + (20 * i), 1, 1.0 + (0.3 * i), i)).ToList();
        float[] longUtterance = TestAudio.Voice(150, 1, 6.0, 9);
        float[][] batch = embedder.EmbedMany(utterances, TestAudio.Rate);
        float[][] singles = utterances.Select(u => embedder.Embed(u, TestAudio.Rate)).ToArray();
        float[] windowed = embedder.Embed(longUtterance, TestAudio.Rate);
        void Check(int call)
        {
            float[][] again = embedder.EmbedMany(utterances.Select(u => u.ToArray()).ToList(), TestAudio.Rate);
            for (int u = 0; u < batch.Length; u++)
            {
                Assert.True(again[u].AsSpan().SequenceEqual(batch[u]), $"batched utterance {u} differed on call {call}");
                Assert.True(embedder.Embed(utterances[u].ToArray(), TestAudio.Rate).AsSpan().SequenceEqual(singles[u]), $"utterance {u} alone differed on call {call}");
            }

            Assert.True(embedder.Embed(longUtterance.ToArray(), TestAudio.Rate).AsSpan().SequenceEqual(windowed), $"windowed call {call} differed");
        }

        for (int i = 0; i < 4; i++) Check(i);
        Parallel.For(4, 12, new ParallelOptions { MaxDegreeOfParallelism = 4 }, Check);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => Create(new SpeakerEmbedderOptions { WindowOverlap = 1, MaxWindowsPerBatch = 0 }));
        Assert.Contains("WindowOverlap", ex.Message);
        Assert.Contains("MaxWindowsPerBatch", ex.Message);
    }

    [Fact]
    public void Constructor_FeatureSizeNotEncoderInputSize_ThrowsWithBothSizes()
    {
        using var encoder = new Dls.Speaker.Encoders.GruSpeakerEncoder(TestModels.Tiny);
        var model = new SpeakerModel(encoder, new Dls.Speaker.Features.SpeakerFeatureOptions { Kind = Dls.Speaker.Features.SpeakerFeatureKind.LogMel, MelBins = 64 }, 0.5, null);
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerEmbedder(model));
        Assert.Equal("model", ex.ParamName);
        Assert.Contains("features give 64 values per frame (LogMel), its encoder expects InputSize = 513", ex.Message);
    }

    [Fact]
    public void EmbedMany_NullUtterance_ThrowsNamingItsIndex()
    {
        using var embedder = Create();
        var ex = Assert.Throws<ArgumentNullException>(() => embedder.EmbedMany([TestAudio.Voice(120, 1, 0.7, 1), null!], TestAudio.Rate));
        Assert.Equal("utterances", ex.ParamName);
        Assert.Contains("Utterance 1 is null.", ex.Message);
    }
}
