using System.Diagnostics;
using System.Text.Json.Nodes;
using Dls.Audio.IO;
using Dls.Compression.LowRank;
using Dls.Models.Denoising;
using Dls.Samples.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Denoising;

/// <summary>The <c>bench denoise</c> area: real-time factors and training throughput.</summary>
internal static class DenoisingBench
{
    public static Task<JsonObject> RunAsync(BenchContext ctx, CancellationToken ct) => Task.Run(() => Run(ctx, ct), ct);

    private static JsonObject Run(BenchContext ctx, CancellationToken ct)
    {
        int rate = Denoiser.DefaultSampleRate;
        double audioSeconds = ctx.Quick ? 5 : 30;
        float[] audio = TestSignal((int)(audioSeconds * rate), rate);
        var figures = new JsonObject { ["audio_seconds"] = audioSeconds };
        DenoisingTraining.Spec[] specs = DenoisingTraining.FullSpecs();
        // One step per measured model and one for training: a full run takes over a minute.
        using var progress = ctx.Progress.Start("denoise benchmarks", 3 + specs.Sum(s => s.Compress ? 2 : 1));

        // The shipped default, plus the two other architectures at their trained sizes (speed does not depend on the
        // weights, so fresh ones stand in for them): rtf = compute seconds per second of 16 kHz audio.
        using (Denoiser shipped = Denoiser.LoadDefault())
        {
            figures["default_architecture"] = shipped.Architecture;
            figures["default_parameters"] = shipped.ParameterCount;
            // The first call of the process, before anything is warm (what a one-file command-line run pays), then the
            // steady state every other figure reports.
            var first = Stopwatch.StartNew();
            shipped.Denoise(audio, rate);
            figures["rtf_default_first_call"] = Math.Round(first.Elapsed.TotalSeconds / audioSeconds, 5);
            figures["rtf_default"] = Rtf(shipped, audio, audioSeconds, ctx.Quick, ct);
            StreamAtSoundCardRate(shipped, audioSeconds, ctx.Quick, figures, ct);
            figures["rtf_default_clips_44k"] = ClipsAtCdRate(shipped, audioSeconds, ctx.Quick, ct);
            progress.Increment();
            MeasureMemory(shipped, audio, ctx.Quick ? 60 : 600, figures, ct);
            progress.Increment();
        }

        // The architectures denoise-train trains, at their trained sizes (fresh weights: speed does not depend on them).
        foreach (DenoisingTraining.Spec spec in specs)
        {
            string key = spec.Name.Replace('-', '_');
            var network = spec.Create();
            using var module = (nn.Module)network;   // released also when a measurement fails or is cancelled
            long parameters = module.parameters().Sum(p => p.numel());
            using (var d = new Denoiser(network, rate, ownsNetwork: false))
            {
                figures["rtf_" + key] = Rtf(d, audio, audioSeconds, ctx.Quick, ct);
            }

            progress.Increment();
            if (spec.Compress)
            {
                ModelCompressor.Compress(module, CompressionPolicy.ParameterBudgetOf(parameters / 5));
                using var d = new Denoiser(network, rate, ownsNetwork: false);
                figures["rtf_" + key + "_compressed"] = Rtf(d, audio, audioSeconds, ctx.Quick, ct);
                progress.Increment();
            }
        }

        figures["train_frames_per_s"] = TrainFramesPerSecond(ctx.Quick ? 3 : 10, ct);
        progress.Increment();
        return figures;
    }

    private static void MeasureMemory(Denoiser denoiser, float[] audio, int seconds, JsonObject figures, CancellationToken ct)
    {
        // The footprint of a long input, with the shipped default. Streaming: one-second blocks cut from the bench signal
        // as they are fed, so the input never exists whole; a peak that stays where it was after the first tenth of the
        // stream is bounded memory.
        int rate = Denoiser.DefaultSampleRate;
        figures["memory_seconds"] = seconds;
        var block = new float[rate];
        GC.Collect();
        figures["memory_mb_before"] = PeakMemoryWindow.Megabytes(PeakMemoryWindow.ResidentBytes());
        using (IStreamingDenoiser stream = denoiser.CreateStream())
        using (var window = PeakMemoryWindow.Start())
        {
            for (int second = 0; second < seconds; second++)
            {
                ct.ThrowIfCancellationRequested();
                Cycle(audio, (long)second * rate, block);
                stream.Process(block);
                if (second + 1 == seconds / 10)
                {
                    figures["memory_stream_mb_peak_first_tenth"] = PeakMemoryWindow.Megabytes(window.PeakBytes());
                }
            }

            stream.Complete();
            figures["memory_stream_mb_peak"] = PeakMemoryWindow.Megabytes(window.PeakBytes());
        }

        // The same input as a WAV file at the model's rate, file to file: read, denoised and written block by block. The
        // file is written a block at a time too, so that no whole copy of the input is alive while this is measured.
        using (var scratch = ScratchFolder.Create("dls-bench-denoise-"))
        {
            string input = scratch.PathFor("long.wav");
            AtomicFile.Write(input, file =>
            {
                using var writer = new WavWriter(file, new WavFormat(rate, 1, WavSampleFormat.Pcm16), (long)seconds * rate, leaveOpen: true);
                for (int second = 0; second < seconds; second++)
                {
                    Cycle(audio, (long)second * rate, block);
                    writer.WriteFrames(block);
                }
            });
            GC.Collect();
            figures["memory_file_mb_before"] = PeakMemoryWindow.Megabytes(PeakMemoryWindow.ResidentBytes());
            using var window = PeakMemoryWindow.Start();
            denoiser.DenoiseFile(input, scratch.PathFor("denoised.wav"), ct);
            figures["memory_file_mb_peak"] = PeakMemoryWindow.Megabytes(window.PeakBytes());
        }

        // One call on the whole input (what Denoise(float[]) does): the input and the returned output are whole arrays
        // (4 bytes a sample each), the network's tensors chunk by chunk.
        var whole = new float[seconds * rate];
        Cycle(audio, 0, whole);

        figures["memory_call_input_mb"] = PeakMemoryWindow.Megabytes(whole.Length * (long)sizeof(float));
        GC.Collect();
        figures["memory_call_mb_before"] = PeakMemoryWindow.Megabytes(PeakMemoryWindow.ResidentBytes());
        using (var window = PeakMemoryWindow.Start())
        {
            ct.ThrowIfCancellationRequested();
            denoiser.Denoise(whole, rate, ct);
            figures["memory_call_mb_peak"] = PeakMemoryWindow.Megabytes(window.PeakBytes());
        }
    }

    /// <summary>Fills <paramref name="destination"/> with the bench signal repeated end to end, from sample <paramref name="offset"/> on.</summary>
    private static void Cycle(float[] audio, long offset, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = audio[(offset + i) % audio.Length];
        }
    }

    private static double Rtf(IDenoiser denoiser, float[] audio, double audioSeconds, bool quick, CancellationToken ct)
    {
        // Steady state: the first passes over a signal are up to 3× slower (the JIT's tiers, the allocator's first
        // large blocks; measured on the GRU with refiner: 0.011–0.023 then 0.005–0.006), so three whole passes warm up
        // and the best of five counts.
        for (int i = 0; i < (quick ? 1 : 3); i++)
        {
            denoiser.Denoise(audio, Denoiser.DefaultSampleRate);
        }

        int runs = quick ? 1 : 5;
        double bestSeconds = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            ct.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            denoiser.Denoise(audio, Denoiser.DefaultSampleRate);
            bestSeconds = Math.Min(bestSeconds, watch.Elapsed.TotalSeconds);
        }

        return Math.Round(bestSeconds / audioSeconds, 5);
    }

    /// <summary>
    /// The shipped default streaming 48-kHz audio in 10-ms blocks (a sound card's callback), resampled there and back as
    /// it goes: compute seconds per second of audio (best of the passes after one warm-up) and the latency bound.
    /// </summary>
    private static void StreamAtSoundCardRate(Denoiser denoiser, double audioSeconds, bool quick, JsonObject figures, CancellationToken ct)
    {
        const int cardRate = 48000, blockSamples = 480;
        float[] audio = TestSignal((int)(audioSeconds * cardRate), cardRate);
        double best = double.MaxValue;
        int latency = 0;
        for (int pass = 0; pass < (quick ? 2 : 4); pass++)
        {
            ct.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            using (IStreamingDenoiser stream = denoiser.CreateStream(cardRate))
            {
                latency = stream.MaxLatencySamples;
                for (int start = 0; start < audio.Length; start += blockSamples)
                {
                    stream.Process(audio.AsSpan(start, Math.Min(blockSamples, audio.Length - start)));
                }

                stream.Complete();
            }

            if (pass > 0)
            {
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
        }

        figures["rtf_default_stream_48k"] = Math.Round(best / audioSeconds, 5);
        figures["stream_48k_latency_ms"] = Math.Round(latency * 1000.0 / cardRate, 1);
    }

    /// <summary>
    /// The shipped default on one-second clips at 44.1 kHz, one <see cref="Denoiser.Denoise"/> call each (resampled there
    /// and back per call, as a caller denoising many short recordings does): compute seconds per second of audio, the best
    /// pass after one warm-up.
    /// </summary>
    private static double ClipsAtCdRate(Denoiser denoiser, double audioSeconds, bool quick, CancellationToken ct)
    {
        const int cdRate = 44100;
        float[][] clips = Enumerable.Range(0, (int)audioSeconds).Select(k => TestSignal(cdRate, cdRate, new Random(k))).ToArray();
        double best = double.MaxValue;
        for (int pass = 0; pass < (quick ? 2 : 4); pass++)
        {
            var watch = Stopwatch.StartNew();
            foreach (float[] clip in clips)
            {
                ct.ThrowIfCancellationRequested();
                denoiser.Denoise(clip, cdRate);
            }

            if (pass > 0)
            {
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
        }

        return Math.Round(best / clips.Length, 5);
    }

    private static double TrainFramesPerSecond(int batches, CancellationToken ct)
    {
        // Training steps of the GRU of denoise-train (waveform SNR loss, batch 16 × 1.5 s) on synthetic mixtures.
        int rate = Denoiser.DefaultSampleRate;
        var rng = new Random(1);
        var clean = Enumerable.Range(0, 8).Select(_ => TestSignal(rate * 2, rate, rng)).ToArray();
        var noise = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, rate).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var mixer = new OnTheFlyMixer(clean, noise);
        var problem = new DenoisingTrainingProblem([], mixer, [mixer.Mix(rng)], new DenoisingTrainingOptions { BatchSize = 16, BatchesPerEpoch = batches, MaxSegmentSamples = 24000, Loss = DenoisingLoss.WaveformSnr });
        using var model = (GruMaskNetwork)DenoisingTraining.FullSpecs().Single(s => s.Name == GruMaskNetwork.ArchitectureName).Create();
        model.train();
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        long frames = 0;
        var watch = new Stopwatch();
        foreach (DenoisingBatch batch in problem.TrainBatches(0, rng))
        {
            ct.ThrowIfCancellationRequested();
            watch.Start();
            using (torch.NewDisposeScope())
            {
                optimizer.zero_grad();
                problem.Loss(model, batch).backward();
                optimizer.step();
            }

            watch.Stop();
            frames += batch.Noisy.Length * DenoisingStft.FrameCount(batch.Noisy[0].Length);
        }

        return Math.Round(frames / watch.Elapsed.TotalSeconds, 1);
    }

    private static float[] TestSignal(int length, int rate, Random? rng = null)
    {
        // A gliding harmonic tone in white noise: a speech-like workload for timing (content does not change speed).
        rng ??= new Random(7);
        var x = new float[length];
        double phase = 0;
        for (int i = 0; i < length; i++)
        {
            double f0 = 120 + (60 * Math.Sin(2 * Math.PI * 0.5 * i / rate));
            phase += 2 * Math.PI * f0 / rate;
            x[i] = (float)((0.2 * Math.Sin(phase)) + (0.1 * Math.Sin(2 * phase)) + (0.05 * ((rng.NextDouble() * 2) - 1)));
        }

        return x;
    }
}
