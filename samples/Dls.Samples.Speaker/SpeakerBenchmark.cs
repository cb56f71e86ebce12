using System.Diagnostics;
using System.Text.Json.Nodes;
using Dls.Audio.IO;
using Dls.Audio.Resampling;
using Dls.Samples.Abstractions;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Training;
using Dls.Speaker.Verification;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Speaker;

/// <summary>
/// <c>bench speaker</c>: <c>embed_realtime_factor</c> (seconds of audio embedded per second of compute, one utterance
/// per call through the façade, steady state after three passes over the utterances; the first of them is
/// <c>embed_realtime_factor_first_pass</c>; <c>embed_realtime_factor_44k</c> the same utterances at 44.1 kHz, resampled by
/// each call), one 10-minute recording embedded in windows (<c>long_realtime_factor</c>, and the
/// process's resident memory before and at its peak, <c>memory_long_mb_*</c>) and <c>train_pairs_per_s</c> (scored pairs per
/// second of Siamese training steps), on the embedded speakers with the full-size encoder.
/// </summary>
internal static class SpeakerBenchmark
{
    public static Task<JsonObject> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        double seconds = context.Quick ? 0.5 : 5.0;
        string root = SampleData.Resolve(null, "speaker");
        var (test, _) = SpeakerData.Select(root, "test");
        var (train, _) = SpeakerData.Select(root, "train");
        var audio = test.Utterances.Select(u => AudioFile.Load(u.Path, 16000).Samples).ToArray();
        double audioSeconds = audio.Sum(a => a.Length) / 16000.0;
        using var progress = context.Progress.Start("speaker benchmarks", 3);

        // The shipped model when present; an untrained encoder of the same shape otherwise (same cost).
        var model = DefaultSpeakerModel.IsAvailable
            ? DefaultSpeakerModel.Load()
            : new SpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions()), new SpeakerFeatureOptions(), 0.5, null);
        using var embedder = new SpeakerEmbedder(model);
        // The first pass over the utterances, timed on its own: a fresh process (JIT tiers, allocator, thread pool). Then
        // two more passes as warm-up, so that the main figure is the steady state, as in the denoising bench.
        var watch = Stopwatch.StartNew();
        foreach (var a in audio) embedder.Embed(a, 16000);
        double firstPassRealtime = audioSeconds / watch.Elapsed.TotalSeconds;
        for (int pass = 0; pass < 2; pass++)
            foreach (var a in audio) embedder.Embed(a, 16000);

        watch.Restart();
        double embedded = 0;
        int calls = 0;
        while (watch.Elapsed.TotalSeconds < seconds || calls < audio.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var a = audio[calls++ % audio.Length];
            embedder.Embed(a, 16000);
            embedded += a.Length / 16000.0;
        }
        double realtime = embedded / watch.Elapsed.TotalSeconds;

        // The same utterances recorded at 44.1 kHz (resampled before timing): each call resamples to the model's rate.
        var cd = audio.Select(a => Resampler.Resample(a, 16000, 44100)).ToArray();
        foreach (var a in cd) embedder.Embed(a, 44100);
        watch.Restart();
        double embedded44k = 0;
        for (int k = 0; watch.Elapsed.TotalSeconds < seconds || k < cd.Length; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            embedder.Embed(cd[k % cd.Length], 44100);
            embedded44k += audio[k % cd.Length].Length / 16000.0;
        }
        double realtime44k = embedded44k / watch.Elapsed.TotalSeconds;
        progress.Increment();

        watch.Restart();
        int rounds = 0;
        while (watch.Elapsed.TotalSeconds < seconds || rounds < 1)
        {
            embedder.EmbedMany(audio, 16000);
            rounds++;
        }
        double batchRealtime = rounds * audioSeconds / watch.Elapsed.TotalSeconds;
        progress.Increment();

        // One long recording (the utterances one after another; 10 minutes, 1 with --quick), embedded in windows that are
        // averaged. The samples are held whole (the caller's array, 4 bytes a sample, which the embedder reads without
        // copying at the model's rate); the windows become tensors and go through the encoder one batch at a time.
        int longSeconds = context.Quick ? 60 : 600;
        var recording = new float[longSeconds * 16000];
        float[] joined = audio.SelectMany(a => a).ToArray();
        for (int i = 0; i < recording.Length; i++) recording[i] = joined[i % joined.Length];
        GC.Collect();
        double longBefore = PeakMemoryWindow.Megabytes(PeakMemoryWindow.ResidentBytes());
        double longPeak;
        watch.Restart();
        using (var window = PeakMemoryWindow.Start())
        {
            embedder.Embed(recording, 16000);
            longPeak = PeakMemoryWindow.Megabytes(window.PeakBytes());
        }
        double longRealtime = longSeconds / watch.Elapsed.TotalSeconds;

        var (pairsPerSecond, drawnPerSecond) = Training(train, context.Quick ? 2 : 8, cancellationToken);
        progress.Increment();

        var result = new JsonObject
        {
            ["embed_realtime_factor"] = Math.Round(realtime, 1),
            ["embed_realtime_factor_first_pass"] = Math.Round(firstPassRealtime, 1),
            ["embed_realtime_factor_44k"] = Math.Round(realtime44k, 1),
            ["embed_batch_realtime_factor"] = Math.Round(batchRealtime, 1),
            ["train_pairs_per_s"] = Math.Round(pairsPerSecond, 1),
            ["train_drawn_pairs_per_s"] = Math.Round(drawnPerSecond, 2),
            ["embed_utterance_mean_s"] = Math.Round(audioSeconds / audio.Length, 3),
            ["long_seconds"] = longSeconds,
            ["long_realtime_factor"] = Math.Round(longRealtime, 1),
            ["memory_long_input_mb"] = PeakMemoryWindow.Megabytes(recording.Length * (long)sizeof(float)),
            ["memory_long_mb_before"] = longBefore,
            ["memory_long_mb_peak"] = longPeak,
            ["torch_threads"] = torch.get_num_threads(),
            ["model"] = DefaultSpeakerModel.IsAvailable ? "shipped" : "untrained (same shape)",
        };
        context.Logger.LogInformation("speaker bench done: {Figures}", result.ToJsonString());
        return Task.FromResult(result);
    }

    /// <summary>Full training steps (forward, balanced loss over all pairs of the batch, backward, Adam) on the embedded train speakers.</summary>
    private static (double ScoredPairsPerSecond, double DrawnPairsPerSecond) Training(Dls.Speaker.Data.SpeakerDataset train, int batches, CancellationToken ct)
    {
        using var extractor = new SpeakerFeatureExtractor();
        var speakers = train.Speakers;
        using var trainSet = SpeakerFeatureSet.Load(train.WithSpeakers(speakers.Skip(2)), extractor, cancellationToken: ct);
        using var validation = SpeakerFeatureSet.Load(train.WithSpeakers(speakers.Take(2)), extractor, cancellationToken: ct);
        var options = new SpeakerTrainingOptions { PairsPerEpoch = 32 * (batches + 1), PairsPerBatch = 32, WarpFactors = [0.92, 1.0, 1.08] };
        using var problem = new SpeakerTrainingProblem(trainSet, validation, options);
        using var model = new SiameseSpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions()));
        model.train();
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        long scored = 0;
        int done = 0;
        var watch = new Stopwatch();
        using var enumerator = problem.TrainBatches(1, new Random(1)).GetEnumerator();
        while (done <= batches)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (!enumerator.MoveNext()) break;
            // The first batch warms up and is not timed.
            if (done == 1) watch.Start();
            optimizer.zero_grad();
            problem.Loss(model, enumerator.Current).backward();
            optimizer.step();
            if (done >= 1) scored += problem.CountSamples(enumerator.Current);
            done++;
        }
        double elapsed = Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
        return (scored / elapsed, (done - 1) * options.PairsPerBatch / elapsed);
    }
}
