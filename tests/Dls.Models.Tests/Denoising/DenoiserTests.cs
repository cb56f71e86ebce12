using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Resampling;
using Dls.Models.Denoising;
using TorchSharp;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoiserTests
{
    private static float[] Noisy(int length) => DenoisingFixtures.Add(DenoisingFixtures.Tone(length), DenoisingFixtures.Noise(length));

    /// <summary>
    /// What the denoiser is specified to give, built from other parts than its own chain: the whole signal resampled to
    /// the model's rate (<see cref="Resampler.Resample(ReadOnlySpan{float}, int, int)"/>), denoised by the streaming API
    /// in the 65,536-sample blocks the file and array paths feed the engine, resampled back and cut or zero-padded to the
    /// input's length.
    /// </summary>
    private static float[] Reference(Denoiser denoiser, float[] samples, int rate)
    {
        float[] atModelRate = Resampler.Resample(samples, rate, denoiser.SampleRate);
        var denoised = new List<float>();
        using (IStreamingDenoiser stream = denoiser.CreateStream())
        {
            for (int start = 0; start < atModelRate.Length; start += 1 << 16)
            {
                denoised.AddRange(stream.Process(atModelRate.AsSpan(start, Math.Min(1 << 16, atModelRate.Length - start))));
            }

            if (atModelRate.Length > 0)
            {
                denoised.AddRange(stream.Complete());
            }
        }

        float[] back = Resampler.Resample([.. denoised], denoiser.SampleRate, rate);
        Array.Resize(ref back, samples.Length);
        return back;
    }

    // Exact equality: the array path is the specification's steps done block by block, each step bit-equal to its
    // whole-signal form (the resampling stream, the engine fed the same blocks), so any difference is a bug.
    [Theory]
    [InlineData(16000, 200_003)]
    [InlineData(44100, 300_001)]
    [InlineData(8000, 8001)]
    [InlineData(22050, 5)]
    [InlineData(48000, 1)]   // no sample at 16 kHz: zeros
    public void Denoise_AnyRate_EqualsTheSpecifiedStepsOnTheWholeSignal(int rate, int length)
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        float[] input = Noisy(length);

        Assert.Equal(Reference(denoiser, input, rate), denoiser.Denoise(input, rate));
    }

    [Theory]
    [InlineData("fc", 20000)]
    [InlineData("gru", 20000)]
    [InlineData("gru", 1537)]
    [InlineData("gru", 300)]
    [InlineData("refined", 20000)]
    [InlineData("refined", 1537)]
    [InlineData("refined", 300)]
    [InlineData("lookahead", 20000)]
    [InlineData("lookahead", 1537)]
    [InlineData("lookahead", 700)]
    [InlineData("lookahead", 300)]
    public void Denoise_SmallBatches_MatchesWholeSignalTensorPath(string kind, int length)
    {
        IMaskNetwork network = kind switch
        {
            "fc" => DenoisingFixtures.TinyFc(),
            "gru" => DenoisingFixtures.TinyGru(),
            "refined" => DenoisingFixtures.TinyRefinedGru(),
            _ => DenoisingFixtures.TinyLookaheadGru(),
        };
        float[] input = Noisy(length);
        float[] whole = MaskInference.DenoiseWhole(network, input);
        // 5 frames per batch: the engine cuts the signal into many blocks and carries the GRU state across them.
        using var denoiser = new Denoiser(network, maxFramesPerBatch: 5);

        float[] chunked = denoiser.Denoise(input, DenoisingFixtures.Rate);

        // torch.stft/istft vs per-frame rfft/irfft + overlap-add: float32 rounding only (observed ~1e-7).
        Assert.True(DenoisingFixtures.MaxAbsDifference(whole, chunked) < 1e-5f);
    }

    [Fact]
    public async Task Dispose_WhileCallsRun_EachCallSucceedsOrSaysDisposed()
    {
        // A host shutting down (the DI container disposing the singleton) while requests are being denoised: every call
        // either finishes with the serial result or is refused with ObjectDisposedException; none reads freed tensors.
        var denoiser = new Denoiser(DenoisingFixtures.TinyGru(), maxFramesPerBatch: 8);
        float[] input = Noisy(16000);
        float[] expected = denoiser.Denoise(input, DenoisingFixtures.Rate);
        using IStreamingDenoiser stream = denoiser.CreateStream();
        int finished = 0, refused = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var started = new CountdownEvent(4);
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            started.Signal();
            for (int call = 0; call < 200; call++)
            {
                try
                {
                    float[] output = denoiser.Denoise(input, DenoisingFixtures.Rate);
                    if (!output.AsSpan().SequenceEqual(expected)) failures.Add(new Exception("a call returned another result"));
                    Interlocked.Increment(ref finished);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                catch (Exception e)
                {
                    failures.Add(e);
                    return;
                }
            }
        })).ToArray();
        started.Wait();
        Thread.Sleep(20);

        denoiser.Dispose();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(refused > 0, $"expected the calls after Dispose to be refused ({finished} finished)");
        Assert.Throws<ObjectDisposedException>(() => denoiser.Denoise(input, DenoisingFixtures.Rate));
        Assert.Throws<ObjectDisposedException>(() => stream.Process(input));   // a stream of a disposed denoiser
        denoiser.Dispose();                                                     // twice: no effect
    }

    [Fact]
    public void DenoiseFile_Cancelled_ThrowsAndWritesNothing()
    {
        string dir = Directory.CreateTempSubdirectory("dls-cancel").FullName;
        try
        {
            using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
            string input = Path.Combine(dir, "in.wav"), output = Path.Combine(dir, "out.wav");
            Dls.Audio.IO.AudioFile.Save(input, new Dls.Audio.AudioSignal(Noisy(200_000), DenoisingFixtures.Rate));   // four blocks
            using var cancel = new CancellationTokenSource();
            cancel.Cancel();

            Assert.ThrowsAny<OperationCanceledException>(() => denoiser.DenoiseFile(input, output, cancel.Token));
            Assert.ThrowsAny<OperationCanceledException>(() => denoiser.Denoise(Noisy(200_000), 8000, cancel.Token));   // resampled path too

            Assert.False(File.Exists(output));
            Assert.Single(Directory.GetFiles(dir));
            Assert.Equal(200_000, denoiser.Denoise(Noisy(200_000), DenoisingFixtures.Rate, CancellationToken.None).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Stream_AfterItsDispose_ThrowsObjectDisposed()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        IStreamingDenoiser stream = denoiser.CreateStream();
        stream.Dispose();

        Assert.Throws<ObjectDisposedException>(() => stream.Process(new float[100]));
        Assert.Throws<ObjectDisposedException>(() => stream.Complete());
        stream.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CreateStream_RandomBlocks_MatchesDenoiseWithinOneWindowLatency(bool refined)
    {
        using var denoiser = new Denoiser(refined ? DenoisingFixtures.TinyRefinedGru() : DenoisingFixtures.TinyGru());
        float[] input = Noisy(23456);
        float[] expected = denoiser.Denoise(input, DenoisingFixtures.Rate);
        using IStreamingDenoiser stream = denoiser.CreateStream();
        var output = new List<float>();
        var rng = new Random(3);
        int fed = 0;
        while (fed < input.Length)
        {
            int n = Math.Min(rng.Next(1, 3000), input.Length - fed);
            output.AddRange(stream.Process(input.AsSpan(fed, n)));
            fed += n;
            Assert.True(stream.SamplesOut >= fed - stream.MaxLatencySamples, $"after {fed} samples only {stream.SamplesOut} out");
        }

        output.AddRange(stream.Complete());

        Assert.Equal(1023, stream.MaxLatencySamples);
        Assert.True(DenoisingFixtures.MaxAbsDifference(expected, output.ToArray()) < 1e-5f);
    }

    [Theory]
    [InlineData(48000, 1, 3000)]
    [InlineData(44100, 1, 3000)]
    [InlineData(8000, 3, 700)]
    [InlineData(22050, 0, 1)]      // one sample at a time: the latency bound is checked after every sample
    public void CreateStreamAtAnotherRate_RandomBlocks_MatchesDenoiseWithinStatedLatency(int rate, int lookahead, int maxBlock)
    {
        // Resampled there and back as the blocks come: the output is never further behind than MaxLatencySamples (at the
        // stream's rate), and once complete it is as long as the input and equals Denoise on the whole signal to float
        // rounding (the engine gets other blocks than the whole-signal path's 65,536-sample ones; the resampling steps
        // are exact for any blocks). 1e-5 as for the model-rate stream: the resampling filters' gain is about 1.
        using var denoiser = new Denoiser(lookahead == 0 ? DenoisingFixtures.TinyGru() : DenoisingFixtures.TinyLookaheadGru(lookahead), maxFramesPerBatch: 7);
        float[] input = Noisy(maxBlock == 1 ? 6000 : 40001);
        float[] expected = denoiser.Denoise(input, rate);
        using IStreamingDenoiser stream = denoiser.CreateStream(rate);
        var output = new List<float>();
        var rng = new Random(rate);
        int fed = 0;
        while (fed < input.Length)
        {
            int n = Math.Min(rng.Next(1, maxBlock + 1), input.Length - fed);
            output.AddRange(stream.Process(input.AsSpan(fed, n)));
            fed += n;
            Assert.True(stream.SamplesOut >= fed - stream.MaxLatencySamples, $"after {fed} samples only {stream.SamplesOut} out (bound {stream.MaxLatencySamples})");
        }

        output.AddRange(stream.Complete());

        Assert.Equal(rate, stream.SampleRate);
        Assert.Equal(input.Length, output.Count);
        Assert.Equal(input.Length, stream.SamplesOut);
        Assert.True(DenoisingFixtures.MaxAbsDifference(expected, output.ToArray()) < 1e-5f);
    }

    [Fact]
    public void CreateStreamAtAnotherRate_LatencyBound_IsTight()
    {
        // The bound is not slack: with one-sample blocks, some sample waits within 2 % of it. At 48 kHz for a causal
        // network: 3 × 1023 samples of the engine, the two filters' lag (at 48 kHz) and 2 for rounding = 3,383 (70 ms).
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        using IStreamingDenoiser stream = denoiser.CreateStream(48000);
        float[] input = Noisy(20000);
        long worst = 0;
        for (int i = 0; i < input.Length; i++)
        {
            stream.Process(input.AsSpan(i, 1));
            worst = Math.Max(worst, i + 1 - stream.SamplesOut);
        }

        if (System.Numerics.Vector<float>.Count <= 8)
        {
            Assert.Equal(3383, stream.MaxLatencySamples);   // filter lengths are rounded up to the SIMD width (16 lanes: 3,407)
        }

        Assert.InRange(worst, (long)(0.98 * stream.MaxLatencySamples), stream.MaxLatencySamples);   // 3,377 when written
    }

    /// <summary>An implementation written before CreateStream(int) existed: it streams at its model's rate only.</summary>
    private sealed class ModelRateOnlyDenoiser(Denoiser inner) : IDenoiser
    {
        public int SampleRate => inner.SampleRate;

        public string Architecture => inner.Architecture;

        public long ParameterCount => inner.ParameterCount;

        public float[] Denoise(ReadOnlySpan<float> samples, int sampleRate, CancellationToken cancellationToken = default) => inner.Denoise(samples, sampleRate, cancellationToken);

        public void DenoiseFile(string inputPath, string outputPath, CancellationToken cancellationToken = default) => inner.DenoiseFile(inputPath, outputPath, cancellationToken);

        public IStreamingDenoiser CreateStream() => inner.CreateStream();
    }

    [Theory]
    [InlineData(48000, 0, 3000)]
    [InlineData(44100, 2, 1500)]
    [InlineData(8000, 0, 700)]
    public void CreateStreamAtARate_OlderImplementation_StreamsLikeDenoiserAtThatRate(int rate, int lookahead, int maxBlock)
    {
        // The default CreateStream(int) wraps the model-rate stream in the resampling steps Denoiser's own streams use,
        // around the same model-rate blocks, so the two outputs are the same floats: compared exactly, latency included.
        using var denoiser = new Denoiser(lookahead == 0 ? DenoisingFixtures.TinyGru() : DenoisingFixtures.TinyLookaheadGru(lookahead), maxFramesPerBatch: 7);
        IDenoiser older = new ModelRateOnlyDenoiser(denoiser);
        float[] input = Noisy(30001);
        using IStreamingDenoiser own = denoiser.CreateStream(rate);
        using IStreamingDenoiser wrapped = older.CreateStream(rate);
        var expected = new List<float>();
        var output = new List<float>();
        var rng = new Random(rate);
        for (int fed = 0; fed < input.Length;)
        {
            int n = Math.Min(rng.Next(1, maxBlock + 1), input.Length - fed);
            expected.AddRange(own.Process(input.AsSpan(fed, n)));
            output.AddRange(wrapped.Process(input.AsSpan(fed, n)));
            fed += n;
            Assert.Equal(own.SamplesOut, wrapped.SamplesOut);
        }

        expected.AddRange(own.Complete());
        output.AddRange(wrapped.Complete());

        Assert.IsNotType<StreamingDenoiser>(wrapped);
        Assert.Equal(rate, wrapped.SampleRate);
        Assert.Equal(own.MaxLatencySamples, wrapped.MaxLatencySamples);
        Assert.Equal(input.Length, output.Count);
        Assert.Equal(input.Length, wrapped.SamplesOut);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void CreateStreamAtARate_OlderImplementation_ChecksRateAndSamplesAtItsRate()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        IDenoiser older = new ModelRateOnlyDenoiser(denoiser);

        using IStreamingDenoiser atModelRate = older.CreateStream(16000);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => older.CreateStream(0));
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => older.CreateStream(2_000_000_000));
        using IStreamingDenoiser stream = older.CreateStream(48000);
        stream.Process(new float[1000]);
        var nan = Assert.Throws<ArgumentException>(() => stream.Process([0f, 0f, float.NaN]));

        Assert.IsType<StreamingDenoiser>(atModelRate);   // the model's own stream, unwrapped
        Assert.All(new[] { zero, huge }, e => Assert.Equal("sampleRate", e.ParamName));
        Assert.Contains("Expected a sample rate > 0 Hz; found 0", zero.Message);
        Assert.Contains("at most 1600000000 Hz", huge.Message);
        Assert.Contains("found NaN at index 1002", nan.Message);   // counted at 48 kHz, not at the model's rate
        stream.Process(new float[10]);   // a refused block leaves the stream usable
        using IStreamingDenoiser empty = older.CreateStream(48000);
        Assert.Throws<InvalidOperationException>(() => empty.Complete());   // nothing fed
    }

    /// <summary>A denoiser whose model-rate stream is scripted, to show what the wrapper does with a faulty one.</summary>
    private sealed class ScriptedDenoiser(Func<IStreamingDenoiser> stream, int rate = 16000) : IDenoiser
    {
        public int SampleRate => rate;

        public string Architecture => "scripted";

        public long ParameterCount => 0;

        public float[] Denoise(ReadOnlySpan<float> samples, int sampleRate, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void DenoiseFile(string inputPath, string outputPath, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IStreamingDenoiser CreateStream() => stream();
    }

    /// <summary>A model-rate stream that returns each block as it is, with <c>extra</c> zeros more, or without its last
    /// <c>withhold</c> samples (never returned, not even by Complete); with <c>returnsNull</c>, null instead.</summary>
    private sealed class ScriptedStream(int rate, int extra = 0, int withhold = 0, int latency = 0, bool returnsNull = false) : IStreamingDenoiser
    {
        public bool Disposed { get; private set; }

        public int SampleRate => rate;

        public int MaxLatencySamples => latency;

        public long SamplesOut { get; private set; }

        public float[] Process(ReadOnlySpan<float> block)
        {
            if (returnsNull)
            {
                return null!;
            }

            float[] result = new float[Math.Max(0, block.Length - withhold) + (block.IsEmpty ? 0 : extra)];
            block[..Math.Min(block.Length, result.Length)].CopyTo(result);
            SamplesOut += result.Length;
            return result;
        }

        public float[] Complete() => [];

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void CreateStreamAtARate_IdentityModelRateStream_GivesTheInputResampledThereAndBack()
    {
        // No network: what comes out is the input through the two resampling filters, aligned (their delay compensated)
        // and cut to its length. A tone far below both Nyquist rates comes back as it went in, up to the filters' passband
        // ripple: 6.4e-6 when written (2e-5 of the peak); the bound, 1e-4 of the peak, leaves a margin of 5 and still fails
        // for a shift of one sample. The first and last 200 samples, where the signal starts and stops abruptly, are left out.
        var inner = new ScriptedStream(16000);
        IDenoiser scripted = new ScriptedDenoiser(() => inner);
        float[] input = DenoisingFixtures.Tone(44100 * 2);   // harmonics below 2 kHz at 44.1 kHz
        var output = new List<float>();
        using (IStreamingDenoiser stream = scripted.CreateStream(44100))
        {
            for (int fed = 0; fed < input.Length; fed += 4410)
            {
                output.AddRange(stream.Process(input.AsSpan(fed, Math.Min(4410, input.Length - fed))));
            }

            output.AddRange(stream.Complete());
            Assert.Equal(input.Length, stream.SamplesOut);
        }

        Assert.True(inner.Disposed);
        Assert.Equal(input.Length, output.Count);
        float peak = input.Max(Math.Abs);
        float worst = 0;
        for (int i = 200; i < input.Length - 200; i++)
        {
            worst = Math.Max(worst, Math.Abs(output[i] - input[i]));
        }

        Assert.True(worst < 1e-4f * peak, $"largest difference {worst} against a peak of {peak}");
    }

    [Fact]
    public void CreateStreamAtARate_FaultyModelRateStream_ThrowsNamingItAndDisposesIt()
    {
        var atWrongRate = new ScriptedStream(8000);
        var withNegativeLatency = new ScriptedStream(16000, latency: -1);
        IDenoiser wrongRate = new ScriptedDenoiser(() => atWrongRate);
        IDenoiser negativeLatency = new ScriptedDenoiser(() => withNegativeLatency);
        IDenoiser noStream = new ScriptedDenoiser(() => null!);

        var rate = Assert.Throws<InvalidOperationException>(() => wrongRate.CreateStream(48000));
        var latency = Assert.Throws<InvalidOperationException>(() => negativeLatency.CreateStream(48000));
        var none = Assert.Throws<InvalidOperationException>(() => noStream.CreateStream(48000));

        Assert.Contains("returned a stream at 8000 Hz; expected the model's rate, 16000 Hz", rate.Message);
        Assert.Contains("returned a stream with MaxLatencySamples -1; expected ≥ 0", latency.Message);
        Assert.Contains("ScriptedDenoiser.CreateStream() returned null", none.Message);
        Assert.True(atWrongRate.Disposed && withNegativeLatency.Disposed, "a refused model-rate stream must be disposed");
    }

    [Fact]
    public void CreateStreamAtARate_ModelRateStreamBreaksItsContract_FailsThenRefusesEveryLaterCall()
    {
        // An output with a gap must not pass for a whole one: once a call has failed, every later one throws.
        IDenoiser tooMany = new ScriptedDenoiser(() => new ScriptedStream(16000, extra: 5000));
        IDenoiser tooFew = new ScriptedDenoiser(() => new ScriptedStream(16000, withhold: 1));

        using IStreamingDenoiser many = tooMany.CreateStream(48000);
        var more = Assert.Throws<InvalidOperationException>(() => many.Process(new float[48000]));
        var afterMore = Assert.Throws<InvalidOperationException>(() => many.Process(new float[10]));
        using IStreamingDenoiser few = tooFew.CreateStream(48000);
        few.Process(new float[4800]);
        var less = Assert.Throws<InvalidOperationException>(() => few.Complete());
        var afterLess = Assert.Throws<InvalidOperationException>(() => few.Complete());

        Assert.Contains("ScriptedStream returned more samples than it was given", more.Message);
        Assert.Contains("ScriptedStream returned", less.Message);
        Assert.Contains("a completed stream's output is as long as its input", less.Message);
        Assert.All(new[] { afterMore, afterLess }, e => Assert.Contains("An earlier call of this stream failed", e.Message));
        Assert.Same(more, afterMore.InnerException);
        Assert.Same(less, afterLess.InnerException);
    }

    [Fact]
    public void CreateStreamAtARate_ModelRateStreamHoldingEverything_LatencyCappedNotWrapped()
    {
        IDenoiser holdsAll = new ScriptedDenoiser(() => new ScriptedStream(16000, latency: int.MaxValue));

        using IStreamingDenoiser stream = holdsAll.CreateStream(48000);

        Assert.Equal(int.MaxValue, stream.MaxLatencySamples);
    }

    [Fact]
    public void CreateStreamAndDenoise_RateOutOfRange_ThrowNamingIt()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());

        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.CreateStream(0));
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.CreateStream(2_000_000_000));
        var call = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.Denoise(new float[10], 2_000_000_000));

        Assert.All(new[] { zero, huge, call }, e => Assert.Equal("sampleRate", e.ParamName));
        Assert.Contains("Expected a sample rate > 0 Hz; found 0", zero.Message);
        Assert.Contains("at most 1600000000 Hz (100000 × the model's 16000 Hz, the resampler's limit); found 2000000000", huge.Message);
        Assert.Contains("at most 1600000000 Hz", call.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void CreateStream_LookaheadNetwork_MatchesDenoiseWithinStatedLatency(int lookahead)
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyLookaheadGru(lookahead), maxFramesPerBatch: 3);
        float[] input = Noisy(15000);
        float[] expected = denoiser.Denoise(input, DenoisingFixtures.Rate);
        using IStreamingDenoiser stream = denoiser.CreateStream();
        var output = new List<float>();
        var rng = new Random(4);
        int fed = 0;
        while (fed < input.Length)
        {
            int n = Math.Min(rng.Next(1, 2000), input.Length - fed);
            output.AddRange(stream.Process(input.AsSpan(fed, n)));
            fed += n;
            // Never more behind than stated: one window plus one hop per lookahead frame.
            Assert.True(stream.SamplesOut >= fed - stream.MaxLatencySamples, $"after {fed} samples only {stream.SamplesOut} out");
        }

        output.AddRange(stream.Complete());

        Assert.Equal(1023 + (512 * lookahead), stream.MaxLatencySamples);
        // Same float32 operations cut differently: rounding only (as for the causal network).
        Assert.True(DenoisingFixtures.MaxAbsDifference(expected, output.ToArray()) < 1e-5f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Denoise_ManyThreads_EachGetsTheSerialResult(bool lookahead)
    {
        using var denoiser = new Denoiser(lookahead ? DenoisingFixtures.TinyLookaheadGru() : DenoisingFixtures.TinyGru());
        float[][] inputs = Enumerable.Range(0, 8).Select(i => DenoisingFixtures.Add(DenoisingFixtures.Tone(6000 + (i * 700), i), DenoisingFixtures.Noise(6000 + (i * 700), i))).ToArray();
        float[][] serial = inputs.Select(x => denoiser.Denoise(x, DenoisingFixtures.Rate)).ToArray();

        float[][] parallel = new float[inputs.Length][];
        Parallel.For(0, inputs.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            float[] y = denoiser.Denoise(inputs[i % inputs.Length], DenoisingFixtures.Rate);
            if (i >= inputs.Length * 2)
            {
                parallel[i % inputs.Length] = y;
            }
        });

        // Same inputs through the same operations: equal up to float reduction-order effects (none observed).
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.True(DenoisingFixtures.MaxAbsDifference(serial[i], parallel[i]) < 1e-6f);
        }
    }

    [Theory]
    [InlineData("gru")]
    [InlineData("lookahead")]
    [InlineData("refined")]
    public void Denoise_ManyCalls_NoTensorLeak(string kind)
    {
        IMaskNetwork network = kind switch
        {
            "gru" => DenoisingFixtures.TinyGru(),
            "refined" => DenoisingFixtures.TinyRefinedGru(),
            _ => DenoisingFixtures.TinyLookaheadGru(),
        };
        using var denoiser = new Denoiser(network, maxFramesPerBatch: 4);
        float[] input = Noisy(5000);
        denoiser.Denoise(input, DenoisingFixtures.Rate);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        for (int i = 0; i < 30; i++)
        {
            denoiser.Denoise(input, DenoisingFixtures.Rate);
            using IStreamingDenoiser s = denoiser.CreateStream();
            s.Process(input);
            s.Complete();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Constructor_BatchOverTheSpanLimit_ThrowsNamingTheLimit()
    {
        var network = DenoisingFixtures.TinyGru();
        try
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Denoiser(network, maxFramesPerBatch: 524_288, ownsNetwork: false));

            Assert.Equal("maxFramesPerBatch", e.ParamName);
            Assert.Contains("Expected at most 524287 frames per batch", e.Message);
        }
        finally
        {
            ((torch.nn.Module)network).Dispose();
        }
    }

    [Fact]
    public void Denoise_OtherSampleRate_ResamplesAndKeepsLength()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());

        float[] output = denoiser.Denoise(Noisy(8001), 8000);

        Assert.Equal(8001, output.Length);
        Assert.All(output, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Denoise_Empty_Throws()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());

        var e = Assert.Throws<ArgumentException>(() => denoiser.Denoise([], 16000));

        Assert.Contains("found an empty signal", e.Message);
    }

    [Fact]
    public void Denoise_NaNSample_ThrowsWithIndex()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());
        float[] input = Noisy(1000);
        input[123] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => denoiser.Denoise(input, 16000));

        Assert.Contains("found NaN at index 123", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16000)]
    public void Denoise_NonPositiveRate_Throws(int rate)
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.Denoise(Noisy(100), rate));

        Assert.Contains($"found {rate}", e.Message);
    }

    [Fact]
    public void StreamProcess_InfinitySample_ThrowsWithGlobalIndex()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        using IStreamingDenoiser stream = denoiser.CreateStream();
        stream.Process(Noisy(100));

        var e = Assert.Throws<ArgumentException>(() => stream.Process([0f, float.PositiveInfinity]));

        Assert.Contains("at index 101", e.Message);
    }

    [Fact]
    public void DenoiseFile_RateAboveTheResamplersLimit_ThrowsNamingTheFileAndWritesNothing()
    {
        // A 16-bit mono file can declare 1.7 GHz (its byte rate, 3.4e9, fits the header); the resampler takes at most
        // 100,000 × the model's 16 kHz to it, and at most 100,000 × a lower output rate to that.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        string input = temp.File("fast.wav");
        WavFile.Write(input, new WavData(1_700_000_000, [Noisy(2000)], WavSampleFormat.Pcm16));
        string slow = temp.File("slow.wav");
        WavFile.Write(slow, new WavData(200_000, [Noisy(2000)], WavSampleFormat.Pcm16));

        var tooFast = Assert.Throws<NotSupportedException>(() => denoiser.DenoiseFile(input, temp.File("out.wav")));
        denoiser.OutputSampleRate = 1;
        var tooLow = Assert.Throws<NotSupportedException>(() => denoiser.DenoiseFile(slow, temp.File("out.wav")));

        Assert.Contains($"'{input}' is sampled at 1700000000 Hz; expected at most 1600000000 Hz (100000 × the model's 16000 Hz, the resampler's limit)", tooFast.Message);
        Assert.Contains($"'{slow}' is sampled at 200000 Hz; expected at most 100000 Hz (100000 × the output's 1 Hz, the resampler's limit)", tooLow.Message);
        Assert.False(File.Exists(temp.File("out.wav")));
    }

    [Fact]
    public void DenoiseFile_WavToWav_WritesSameLengthAndRate()
    {
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        AudioFile.Save(temp.File("in.wav"), new AudioSignal(Noisy(9000), 16000));

        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("out.wav"));

        AudioSignal output = AudioFile.Load(temp.File("out.wav"));
        Assert.Equal(9000, output.Samples.Length);
        Assert.Equal(16000, output.SampleRate);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DenoiseFile_AtTheModelRate_WritesWhatDenoiseGivesForTheWholeFile(int channels)
    {
        // At the model's rate the file is read, denoised and written block by block (memory bounded for any length):
        // more than two blocks of 65,536 samples here, stereo downmixed as AudioFile.Load does; the file must hold
        // exactly the samples Denoise gives for the whole loaded signal, byte for byte.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        float[][] data = Enumerable.Range(0, channels).Select(c => Noisy(150_001).Select(v => v * (1f - (0.3f * c))).ToArray()).ToArray();
        WavFile.Write(temp.File("in.wav"), new WavData(16000, data, WavSampleFormat.Float32));

        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("out.wav"));

        AudioFile.Save(temp.File("expected.wav"), new AudioSignal(denoiser.Denoise(AudioFile.Load(temp.File("in.wav")).Samples, 16000), 16000));
        Assert.Equal(File.ReadAllBytes(temp.File("expected.wav")), File.ReadAllBytes(temp.File("out.wav")));
    }

    [Theory]
    [InlineData(44100, null, 1, 200_003)]   // three engine blocks at 16 kHz
    [InlineData(8000, null, 2, 40_001)]
    [InlineData(16000, 44100, 1, 150_001)]
    [InlineData(22050, 48000, 2, 30_000)]
    [InlineData(44100, 16000, 1, 99_999)]
    [InlineData(44100, null, 1, 3)]         // resampled to 1 sample at 16 kHz, and back
    [InlineData(48000, 8000, 1, 1)]         // nothing at 16 kHz: the output is zeros, as Denoise gives
    public void DenoiseFile_AnyRate_WritesWhatTheWholeFilePathGives(int inputRate, int? outputRate, int channels, int frames)
    {
        // Every rate goes through the block path (resampling streamed there and back); the file must hold, byte for byte,
        // what the specified steps give for the whole loaded signal (Reference), resampled to the output rate as the
        // whole-file path does.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru()) { OutputSampleRate = outputRate };
        float[][] data = Enumerable.Range(0, channels).Select(c => Noisy(frames).Select(v => v * (1f - (0.3f * c))).ToArray()).ToArray();
        WavFile.Write(temp.File("in.wav"), new WavData(inputRate, data, WavSampleFormat.Float32));
        int blocks = 0;
        denoiser.FileBlockRead = _ => blocks++;

        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("out.wav"));

        float[] expected = Reference(denoiser, AudioFile.Load(temp.File("in.wav")).Samples, inputRate);
        int rate = outputRate ?? inputRate;
        if (rate != inputRate)
        {
            expected = Resampler.Resample(expected, inputRate, rate);
        }

        AudioFile.Save(temp.File("expected.wav"), new AudioSignal(expected, rate), WavSampleFormat.Pcm16);
        Assert.True(blocks >= 1, "the block path was not taken");
        Assert.Equal(File.ReadAllBytes(temp.File("expected.wav")), File.ReadAllBytes(temp.File("out.wav")));
    }

    [Fact]
    public void DenoiseFile_LongFile_WritesOutputWhileStillReading()
    {
        // Bounded memory means the output leaves before the input has all been read: by the fourth block of 65,536
        // input frames the (temporary) output file already holds denoised samples. At 44.1 kHz all three resampling
        // steps of the chain are in the way.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru()) { OutputSampleRate = 48000 };
        WavFile.Write(temp.File("in.wav"), new WavData(44100, [Noisy(400_000)], WavSampleFormat.Float32));
        var sizes = new List<long>();
        denoiser.FileBlockRead = frames => sizes.Add(new DirectoryInfo(temp.Path).GetFiles()
            .Where(f => f.Name != "in.wav").Sum(f => f.Length));

        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("out.wav"));

        Assert.Equal(7, sizes.Count);   // ceil(400,000 / 65,536) blocks
        // One block is 65,536 × 48,000 / 44,100 output frames of 2 bytes; the engine holds back less than one block.
        Assert.True(sizes[3] > 65_536 * 2, $"after 4 blocks the output held {sizes[3]} bytes: {string.Join(", ", sizes)}");
        Assert.True(sizes[6] > sizes[3], string.Join(", ", sizes));
    }

    [Fact]
    public void DenoiseFile_OutputReplacingTheInput_WritesTheDenoisedInput()
    {
        // Loaded whole first (the block path keeps the input open, which Windows would not let the output replace).
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        AudioFile.Save(temp.File("x.wav"), new AudioSignal(Noisy(70_000), 16000));
        AudioFile.Save(temp.File("expected.wav"), new AudioSignal(denoiser.Denoise(AudioFile.Load(temp.File("x.wav")).Samples, 16000), 16000));

        denoiser.DenoiseFile(temp.File("x.wav"), Path.Combine(temp.Path, ".", "x.wav"));

        Assert.Equal(File.ReadAllBytes(temp.File("expected.wav")), File.ReadAllBytes(temp.File("x.wav")));
    }

    [Theory]
    [InlineData(16000)]   // read and written block by block
    [InlineData(8000)]    // the same, resampled there and back
    public void DenoiseFile_NonFiniteSample_ThrowsNamingFileAndFrameAndKeepsTheEarlierOutput(int rate)
    {
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        float[] samples = Noisy(150_000);
        samples[140_000] = float.NaN;   // in the third block: output has been produced by then
        WavFile.Write(temp.File("in.wav"), new WavData(rate, [samples], WavSampleFormat.Float32));
        File.WriteAllText(temp.File("out.wav"), "earlier result");

        var e = Assert.Throws<InvalidDataException>(() => denoiser.DenoiseFile(temp.File("in.wav"), temp.File("out.wav")));

        Assert.Contains("in.wav", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("140000", e.Message);
        Assert.Equal("earlier result", File.ReadAllText(temp.File("out.wav")));
        Assert.Equal(["in.wav", "out.wav"], Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void DenoiseFile_MalformedInput_ThrowsAndLeavesNoOutput()
    {
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());
        File.WriteAllBytes(temp.File("bad.wav"), [1, 2, 3, 4, 5, 6, 7, 8]);

        Assert.Throws<InvalidDataException>(() => denoiser.DenoiseFile(temp.File("bad.wav"), temp.File("out.wav")));

        Assert.Equal(["bad.wav"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void DenoiseFile_MissingInput_ThrowsAndLeavesNoOutput()
    {
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyFc());

        Assert.Throws<FileNotFoundException>(() => denoiser.DenoiseFile(temp.File("none.wav"), temp.File("out.wav")));

        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Constructor_NetworkNotAModule_ThrowsNamingItsType()
    {
        var e = Assert.Throws<ArgumentException>(() => new Denoiser(new PlainMaskNetwork()));

        Assert.Equal("network", e.ParamName);
        Assert.Contains("Expected a TorchSharp module implementing IMaskNetwork; found PlainMaskNetwork", e.Message);
    }

    [Fact]
    public void Constructor_NetworkOverOtherBins_ThrowsNamingBoth()
    {
        // 257 bins is what n_fft 512 gives; the denoiser's STFT has n_fft 1024, 513 bins.
        using var network = new GruMaskNetwork(new GruMaskNetworkOptions(Bins: 257, HiddenSize: 4));

        var e = Assert.Throws<ArgumentException>(() => new Denoiser(network, ownsNetwork: false));

        Assert.Equal("network", e.ParamName);
        Assert.Contains("Expected a network over 513 bins (n_fft 1024); found 257", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-8000)]
    public void OutputSampleRate_NotPositive_ThrowsAndKeepsTheRate(int rate)
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru()) { OutputSampleRate = 8000 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.OutputSampleRate = rate);

        Assert.Equal("value", e.ParamName);
        Assert.Equal(rate, e.ActualValue);
        Assert.Contains($"Expected an output sample rate > 0 Hz or null; found {rate}", e.Message);
        Assert.Equal(8000, denoiser.OutputSampleRate);
    }

    [Fact]
    public void OutputSampleRate_Get_IsTheRateDenoiseFileWrites()
    {
        // The getter against the rate in the header of the file written: null means the input's rate.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        WavFile.Write(temp.File("in.wav"), Noisy(8000), 16000);

        Assert.Null(denoiser.OutputSampleRate);
        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("same.wav"));
        denoiser.OutputSampleRate = 22050;
        int? set = denoiser.OutputSampleRate;
        denoiser.DenoiseFile(temp.File("in.wav"), temp.File("other.wav"));
        denoiser.OutputSampleRate = null;

        Assert.Equal(16000, WavFile.ReadInfo(temp.File("same.wav")).Format.SampleRate);
        Assert.Equal(22050, set);
        Assert.Equal(22050, WavFile.ReadInfo(temp.File("other.wav")).Format.SampleRate);
        Assert.Null(denoiser.OutputSampleRate);
    }

    [Fact]
    public void Load_InvalidBatchLimit_ThrowsNamingIt()
    {
        using var temp = new TempFolder();
        string path = temp.File("gru.ckpt");
        using (var network = (GruMaskNetwork)DenoisingFixtures.TinyGru()) DenoisingModels.Save(path, network);

        // The loaded network is the denoiser's to dispose; the denoiser cannot be made, so Load disposes it and rethrows.
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => Denoiser.Load(path, maxFramesPerBatch: 0));
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => Denoiser.Load(path, maxFramesPerBatch: 524_288));

        Assert.Equal("maxFramesPerBatch", zero.ParamName);
        Assert.Equal(0, zero.ActualValue);   // the framework's positive-value check, whose message names the parameter and value
        Assert.Equal("maxFramesPerBatch", huge.ParamName);
        Assert.Contains("Expected at most 524287 frames per batch", huge.Message);
        using var loaded = Denoiser.Load(path, maxFramesPerBatch: 1);   // the file itself is fine
    }

    [Fact]
    public void DenoiseFile_NoSamples_ThrowsNamingFileAndWritesNothing()
    {
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        string input = temp.File("empty.wav");
        WavFile.Write(input, ReadOnlySpan<float>.Empty, 16000);

        var e = Assert.Throws<InvalidDataException>(() => denoiser.DenoiseFile(input, temp.File("out.wav")));

        Assert.Contains($"'{input}' holds no samples (expected at least 1)", e.Message);
        Assert.Equal(["empty.wav"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void DenoiseFile_OutputOverFourGiB_ThrowsNamingFramesAndRatesAndWritesNothing()
    {
        // 50,000 frames at 1 Hz are 5,000,000,000 at 100 kHz: 10 GB of 16-bit samples, more than a WAV file's 4 GiB
        // (its data size is a 32-bit field: at most (2³² − 1 − 64) / 2 = 2,147,483,615 16-bit samples).
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru()) { OutputSampleRate = 100_000 };
        string input = temp.File("slow.wav");
        WavFile.Write(input, new WavData(1, [Noisy(50_000)], WavSampleFormat.Pcm16));

        var e = Assert.Throws<NotSupportedException>(() => denoiser.DenoiseFile(input, temp.File("out.wav")));

        Assert.Contains($"'{input}' holds 50000 frames at 1 Hz, 5000000000 at the output's 100000 Hz; a 16-bit WAV output holds at most 2147483615 (4 GiB)", e.Message);
        Assert.Equal(["slow.wav"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void DenoiseFile_OutputReplacingTheInputAtAnotherRate_WritesTheDenoisedInputResampled()
    {
        // The in-place path loads the file whole, denoises it at its own rate and resamples the result to the output rate.
        using var temp = new TempFolder();
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru()) { OutputSampleRate = 8000 };
        AudioFile.Save(temp.File("x.wav"), new AudioSignal(Noisy(20_000), 16000));
        float[] denoised = denoiser.Denoise(AudioFile.Load(temp.File("x.wav")).Samples, 16000);
        AudioFile.Save(temp.File("expected.wav"), new AudioSignal(Resampler.Resample(denoised, 16000, 8000), 8000));

        denoiser.DenoiseFile(temp.File("x.wav"), temp.File("x.wav"));

        Assert.Equal(File.ReadAllBytes(temp.File("expected.wav")), File.ReadAllBytes(temp.File("x.wav")));
    }

    [Fact]
    public void Stream_ProcessAfterComplete_ThrowsAndASecondCompleteGivesNothing()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        using IStreamingDenoiser stream = denoiser.CreateStream();
        float[] input = Noisy(3000);
        int given = stream.Process(input).Length + stream.Complete().Length;

        var e = Assert.Throws<InvalidOperationException>(() => stream.Process(input));
        float[] again = stream.Complete();

        Assert.Contains("Complete() was already called; create a new stream for more audio", e.Message);
        Assert.Empty(again);
        Assert.Equal(input.Length, given);
        Assert.Equal(input.Length, stream.SamplesOut);
    }

    [Fact]
    public void Stream_CompleteWithoutSamples_Throws()
    {
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru());
        using IStreamingDenoiser stream = denoiser.CreateStream();

        var e = Assert.Throws<InvalidOperationException>(() => stream.Complete());

        Assert.Contains("The stream received no samples (expected at least 1 before Complete())", e.Message);
    }

    [Fact]
    public void CreateStreamAndDenoise_RateTooLowForTheWayBack_ThrowNamingTheLowestRate()
    {
        // A model at 200 MHz: its output can be resampled down by at most 100,000 times, to 2,000 Hz; a lower rate
        // used to pass the check and fail in the resampler, naming its 'inputRate'.
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru(), sampleRate: 200_000_000);

        var stream = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.CreateStream(1999));
        var call = Assert.Throws<ArgumentOutOfRangeException>(() => denoiser.Denoise(new float[10], 1));

        Assert.All(new[] { stream, call }, e => Assert.Equal("sampleRate", e.ParamName));
        Assert.Contains("Expected a sample rate of at least 2000 Hz (the model's 200000000 Hz / 100000, the resampler's limit); found 1999", stream.Message);
        Assert.Contains("found 1", call.Message);
    }

    [Fact]
    public void DenoiseFile_FileRateTooLowForTheWayBack_NotSupportedNamingTheFileAndWritingNothing()
    {
        // The file counterpart of the test above: the rate is found in the file, so the error names it.
        using var folder = new TempFolder();
        string input = folder.File("slow.wav"), output = folder.File("out.wav");
        WavFile.Write(input, new float[100], 1999);
        using var denoiser = new Denoiser(DenoisingFixtures.TinyGru(), sampleRate: 200_000_000);

        var e = Assert.Throws<NotSupportedException>(() => denoiser.DenoiseFile(input, output));

        Assert.Contains($"'{input}' is sampled at 1999 Hz; expected at least 2000 Hz (the model's 200000000 Hz / 100000, the resampler's limit)", e.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void CreateStreamAtARate_OlderImplementationRateTooLowForTheWayBack_ThrowsBeforeMakingAStream()
    {
        int streams = 0;
        IDenoiser scripted = new ScriptedDenoiser(() =>
        {
            streams++;
            return new ScriptedStream(200_000_000);
        }, rate: 200_000_000);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => scripted.CreateStream(1));

        Assert.Equal("sampleRate", e.ParamName);
        Assert.Contains("Expected a sample rate of at least 2000 Hz (the model's 200000000 Hz / 100000", e.Message);
        Assert.Equal(0, streams);
    }

    [Fact]
    public void CreateStreamAtARate_ModelRateNotPositive_ThrowsNamingTheDenoiser()
    {
        IDenoiser scripted = new ScriptedDenoiser(() => new ScriptedStream(0), rate: 0);

        var e = Assert.Throws<InvalidOperationException>(() => scripted.CreateStream(48000));

        Assert.Contains("ScriptedDenoiser.SampleRate is 0 Hz; expected a positive model rate", e.Message);
    }

    [Fact]
    public void CreateStreamAtARate_OlderImplementation_ProcessAfterCompleteThrowsAndSecondCompleteGivesNothing()
    {
        IDenoiser scripted = new ScriptedDenoiser(() => new ScriptedStream(16000));
        using IStreamingDenoiser stream = scripted.CreateStream(48000);
        int given = stream.Process(new float[4800]).Length + stream.Complete().Length;

        var e = Assert.Throws<InvalidOperationException>(() => stream.Process(new float[10]));
        float[] again = stream.Complete();

        Assert.Contains("Complete() was already called; create a new stream for more audio", e.Message);
        Assert.Empty(again);
        Assert.Equal(4800, given);
    }

    [Fact]
    public void CreateStreamAtARate_ModelRateStreamReturnsNull_ThrowsNamingItThenRefuses()
    {
        IDenoiser scripted = new ScriptedDenoiser(() => new ScriptedStream(16000, returnsNull: true));
        using IStreamingDenoiser stream = scripted.CreateStream(48000);

        // 0.1 s at 48 kHz is far more than the resampler holds back: the model-rate stream is called, and returns null.
        var e = Assert.Throws<InvalidOperationException>(() => stream.Process(new float[4800]));
        var next = Assert.Throws<InvalidOperationException>(() => stream.Process(new float[10]));

        Assert.Contains("ScriptedStream returned null; expected an array of output samples (possibly empty)", e.Message);
        Assert.StartsWith("An earlier call of this stream failed", next.Message);
        Assert.Same(e, next.InnerException);
    }
}
