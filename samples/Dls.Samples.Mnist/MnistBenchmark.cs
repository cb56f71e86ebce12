using System.Diagnostics;
using System.Text.Json.Nodes;
using Dls.Compression.Counting;
using Dls.Models.Mnist;
using Dls.Models.Training;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Samples.Mnist;

/// <summary>
/// <c>bench mnist</c>: the trainer against a minimal hand-written loop doing the same work (same data, batches,
/// model, optimizer), fp32 matmul FLOP/s, and dense versus rank-20 inference latency. Figures measured in one run are
/// compared as ratios (the machine is shared; absolute figures vary ±20 %).
/// </summary>
internal static class MnistBenchmark
{
    public static Task<JsonObject> RunAsync(BenchContext ctx, CancellationToken ct) => Task.Run(() => Run(ctx, ct), ct);

    private static JsonObject Run(BenchContext ctx, CancellationToken ct)
    {
        bool quick = ctx.Quick;
        var result = new JsonObject { ["quick"] = quick, ["threads"] = torch.get_num_threads() };

        double gflops = MatmulGflops(quick ? 5 : 20);
        result["matmul_gflops"] = gflops;
        ctx.Out.WriteLine($"fp32 2048x2048 matmul: {gflops:F1} GFLOP/s");

        var (trainer, bare) = TrainingThroughput(ctx, quick, ct);
        result["trainer_samples_per_s"] = trainer;
        result["bare_loop_samples_per_s"] = bare;
        result["trainer_vs_bare"] = trainer / bare;
        long baselineParams = 5_012_490;
        // Training costs ~6 FLOPs per parameter per sample (2 forward, 4 backward: input and weight gradients).
        result["trainer_matmul_fraction"] = 6.0 * baselineParams * trainer / (gflops * 1e9);
        ctx.Out.WriteLine($"training (batch 128, Adam): trainer {trainer:F0} samples/s, bare loop {bare:F0} samples/s, ratio {trainer / bare:F3}");

        foreach (var (key, value) in Inference(ctx, quick, ct))
            result[key] = value;
        return result;
    }

    private static double MatmulGflops(int repeats)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.inference_mode();
        var a = torch.rand(2048, 2048);
        var b = torch.rand(2048, 2048);
        a.mm(b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            a.mm(b).Dispose();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
    }

    /// <summary>Alternates trainer epochs and bare-loop epochs so both see the same machine load; keeps the best of each.</summary>
    private static (double Trainer, double Bare) TrainingThroughput(BenchContext ctx, bool quick, CancellationToken ct)
    {
        int samples = quick ? 1024 : 4096;
        int rounds = quick ? 1 : 3;
        var rng = new Random(7);
        var pixels = new byte[samples * 784];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, samples).Select(_ => (byte)rng.Next(10)).ToArray();
        var train = new MnistSplit(pixels, labels, 28, 28);
        var test = train.Take(128);
        using var problem = new MnistTrainingProblem(train, test, batchSize: 128);

        double bestTrainer = 0, bestBare = 0;
        using var progress = ctx.Progress.Start("trainer vs bare loop", 2 * rounds + 2);
        // Warm-up of both paths (allocator, BLAS thread pool, JIT).
        Measure(() => TrainerEpoch(problem, 1));
        progress.Increment();
        Measure(() => BareEpoch(problem, 1));
        progress.Increment();
        for (int r = 0; r < rounds; r++)
        {
            ct.ThrowIfCancellationRequested();
            bestTrainer = Math.Max(bestTrainer, samples / Measure(() => TrainerEpoch(problem, 2)) );
            progress.Increment();
            bestBare = Math.Max(bestBare, samples / Measure(() => BareEpoch(problem, 2)));
            progress.Increment();
            ctx.Logger.LogInformation("round {Round}: trainer {Trainer:F0}, bare {Bare:F0} samples/s", r + 1, bestTrainer, bestBare);
        }
        return (bestTrainer, bestBare);
    }

    private static double Measure(Func<double> run) => run();

    /// <summary>Seconds per epoch of <see cref="Trainer.Fit"/> over <paramref name="epochs"/> epochs (wall time, validation included).</summary>
    private static double TrainerEpoch(MnistTrainingProblem problem, int epochs)
    {
        torch.manual_seed(1);
        using var model = new MnistMlp();
        var trainer = new Trainer(new TrainerOptions { Epochs = epochs, LearningRate = 1e-3, Seed = 1, MonitorMetric = "train_loss" });
        var watch = Stopwatch.StartNew();
        trainer.Fit(model, problem);
        return watch.Elapsed.TotalSeconds / epochs;
    }

    /// <summary>The minimal loop: shuffled batches, forward, cross-entropy, backward, Adam step, one dispose scope per batch.</summary>
    private static double BareEpoch(MnistTrainingProblem problem, int epochs)
    {
        torch.manual_seed(1);
        using var model = new MnistMlp();
        model.train();
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        var watch = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            using var batches = problem.TrainBatches(epoch, new Random(epoch)).GetEnumerator();
            while (true)
            {
                using var scope = torch.NewDisposeScope();
                if (!batches.MoveNext()) break;
                optimizer.zero_grad();
                var logits = model.call(batches.Current.Images);
                var loss = torch.nn.functional.cross_entropy(logits, batches.Current.Labels);
                loss.backward();
                optimizer.step();
            }
        }
        return watch.Elapsed.TotalSeconds / epochs;
    }

    private static IEnumerable<(string Key, JsonNode Value)> Inference(BenchContext ctx, bool quick, CancellationToken ct)
    {
        torch.manual_seed(3);
        using var dense = new MnistMlp();
        using var lowRank = new LowRankMlp(new LowRankMlpOptions { Rank = 20 });
        dense.eval();
        lowRank.eval();
        using var denseFast = new MnistClassifier(dense);
        using var lowRankFast = new MnistClassifier(lowRank);
        var results = new List<(string, JsonNode)>
        {
            ("dense_params", ModelCounter.CountParameters(dense).Total),
            ("lowrank20_params", ModelCounter.CountParameters(lowRank).Total),
            ("dense_macs_per_sample", ModelCounter.CountMacs(dense).Total),
            ("lowrank20_macs_per_sample", ModelCounter.CountMacs(lowRank).Total),
        };
        using var progress = ctx.Progress.Start("inference latency", 4);
        foreach (int batch in new[] { 1, 128 })
        {
            ct.ThrowIfCancellationRequested();
            using var x = torch.rand(batch, 784);
            double budget = quick ? 0.3 : 2.0;
            // The façade's fast path (what the targets are about) and the plain module forward, for reference.
            double d = Latency(() => denseFast.Forward(x), budget);
            double l = Latency(() => lowRankFast.Forward(x), budget);
            progress.Increment();
            double dm = Latency(() => dense.call(x), budget / 2);
            double lm = Latency(() => lowRank.call(x), budget / 2);
            progress.Increment();
            results.Add(($"dense_infer_b{batch}_us", d));
            results.Add(($"lowrank20_infer_b{batch}_us", l));
            results.Add(($"lowrank20_speedup_b{batch}", d / l));
            results.Add(($"dense_module_infer_b{batch}_us", dm));
            results.Add(($"lowrank20_module_infer_b{batch}_us", lm));
            ctx.Out.WriteLine($"inference batch {batch}: dense {d:F1} us, rank-20 {l:F1} us, speed-up {d / l:F1}x (plain module forward: {dm:F1} vs {lm:F1} us, {dm / lm:F1}x)");
        }
        return results;
    }

    /// <summary>Median latency in microseconds over repeated calls filling about <paramref name="budgetSeconds"/>.</summary>
    private static double Latency(Func<Tensor> call, double budgetSeconds)
    {
        using var mode = torch.inference_mode();
        for (int i = 0; i < 5; i++) call().Dispose();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < budgetSeconds || times.Count < 11)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = torch.NewDisposeScope())
                call().Dispose();
            times.Add(watch.Elapsed.TotalMilliseconds * 1000);
            if (times.Count >= 20000) break;
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
