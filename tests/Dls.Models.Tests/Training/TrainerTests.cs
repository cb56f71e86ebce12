using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Training;

[Collection("TorchGlobalState")]
public sealed class TrainerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-trainer-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static float[] Weights(ToyNet net) => net.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    [Fact]
    public void Fit_SeparableProblem_LearnsAndRecordsHistory()
    {
        torch.manual_seed(3);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        var reports = new List<TrainingProgress>();
        var trainer = new Trainer(new TrainerOptions { Epochs = 8, LearningRate = 0.05, MonitorMetric = "val_acc", HigherIsBetter = true });
        var result = trainer.Fit(net, problem, new SyncProgress(reports.Add));

        Assert.Equal(8, result.History.Count);
        // A linear rule on 4 Gaussian features: 8 epochs of Adam reach far above chance (0.5); 0.85 leaves margin for seeds.
        Assert.True(result.BestMetric >= 0.85, $"best val_acc {result.BestMetric}");
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss);
        Assert.Equal(result.History.MaxBy(h => h.Metrics["val_acc"])!.Epoch, result.BestEpoch);
        Assert.Equal(8 * 8, reports.Count(r => r.Kind == TrainingProgressKind.Batch)); // 256 / 32 = 8 batches per epoch
        Assert.Equal(8, reports.Count(r => r.Kind == TrainingProgressKind.Epoch));
        Assert.All(result.History, h => Assert.True(h.SamplesPerSecond > 0));
        Assert.False(net.training);
    }

    [Fact]
    public void Fit_CancelledMidEpoch_ThrowsAndLeavesTheModelInEvalMode()
    {
        torch.manual_seed(3);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        using var cancel = new CancellationTokenSource();
        var trainer = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.05 });
        var progress = new SyncProgress(p =>
        {
            if (p.Kind == TrainingProgressKind.Batch) cancel.Cancel();   // after the first batch of epoch 1
        });

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Fit(net, problem, progress, cancel.Token));

        Assert.False(net.training);   // dropout and the like off, as after a finished Fit
    }

    [Fact]
    public void Fit_SameSeed_RepeatsExactly()
    {
        float[] Run()
        {
            torch.manual_seed(11);
            using var net = new ToyNet();
            using var problem = new ToyProblem();
            new Trainer(new TrainerOptions { Epochs = 2, Seed = 5, Optimizer = OptimizerKind.Sgd, LearningRate = 0.1 }).Fit(net, problem);
            return Weights(net);
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Fit_ResumeFromCheckpoint_MatchesUninterruptedRun()
    {
        string path = Path.Combine(dir, "toy.bin");
        // Monitoring train_loss with a patience-free run: every epoch of a converging toy run improves, so the
        // checkpoint written after epoch 2 is the state an uninterrupted run has after epoch 2.
        var baseOptions = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };

        torch.manual_seed(4);
        using var full = new ToyNet();
        using (var p = new ToyProblem()) new Trainer(baseOptions with { Epochs = 4 }).Fit(full, p);

        torch.manual_seed(4);
        using var resumed = new ToyNet();
        using (var p = new ToyProblem())
        {
            var first = new Trainer(baseOptions with { Epochs = 2, CheckpointPath = path }).Fit(resumed, p);
            Assert.Equal(2, first.BestEpoch);
        }
        using var fresh = new ToyNet();
        using (var p = new ToyProblem())
        {
            var second = new Trainer(baseOptions with { Epochs = 4, ResumeFrom = path }).Fit(fresh, p);
            Assert.Equal([1, 2, 3, 4], second.History.Select(h => h.Epoch));
        }
        // Same batches, dropout-free net, restored Adam moments: identical up to float32 summation order (1e-5).
        var a = Weights(full);
        var b = Weights(fresh);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-5f);
    }

    [Fact]
    public void Fit_EarlyStopping_StopsAfterPatience()
    {
        torch.manual_seed(1);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        // Monitoring a "higher is better" loss: it keeps falling, so no epoch after the first counts as an improvement.
        var result = new Trainer(new TrainerOptions { Epochs = 10, LearningRate = 0.05, MonitorMetric = "val_loss", HigherIsBetter = true, EarlyStoppingPatience = 2 })
            .Fit(net, problem);
        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.History.Count);
        Assert.Equal(1, result.BestEpoch);
    }

    [Fact]
    public void Fit_SavesBestCheckpoint_LoadableFromFilesAlone()
    {
        string path = Path.Combine(dir, "best.bin");
        torch.manual_seed(2);
        using var net = new ToyNet(new ToyNet.Options(Hidden: 6));
        using var problem = new ToyProblem();
        var result = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.05, CheckpointPath = path }).Fit(net, problem);
        var (loaded, info) = Checkpoint.Load(path);
        using (loaded)
        {
            Assert.IsType<ToyNet>(loaded);
            Assert.Equal(6, ((ToyNet)loaded).Shape.Hidden);
            Assert.Equal(result.BestEpoch, info.Metadata["epoch"]!.GetValue<int>());
        }
    }

    [Fact]
    public void Fit_MissingMonitoredMetric_ThrowsNamingAvailableOnes()
    {
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        var e = Assert.Throws<InvalidOperationException>(() => new Trainer(new TrainerOptions { Epochs = 1, MonitorMetric = "val_eer" }).Fit(net, problem));
        Assert.Contains("val_eer", e.Message);
        Assert.Contains("val_acc", e.Message);
    }

    [Fact]
    public void Fit_MonitoredMetricOutsideTheDeclaredOnes_RefusedBeforeTheFirstEpoch()
    {
        using var net = new ToyNet();
        using var problem = new BrokenProblem { MetricNames = ["val_loss", "val_acc"] };
        float[] before = net.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Epochs = 1, MonitorMetric = "val_accuracy" }).Fit(net, problem));
        Assert.Contains("The monitored metric 'val_accuracy' is not among the metrics BrokenProblem validates with [val_loss, val_acc, train_loss]", e.Message);
        Assert.Equal(0, problem.BatchesEnumerated);   // not one batch trained
        Assert.Equal(before, net.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray());
    }

    [Fact]
    public void Fit_DeclaredMetrics_TrainLossAndDeclaredNamesMayBeMonitored()
    {
        foreach (string monitored in new[] { "train_loss", "val_acc" })
        {
            using var net = new ToyNet();
            using var problem = new BrokenProblem { MetricNames = ["val_loss", "val_acc"] };
            var result = new Trainer(new TrainerOptions { Epochs = 1, LearningRate = 0.05, MonitorMetric = monitored }).Fit(net, problem);
            Assert.Equal(1, result.BestEpoch);
        }
    }

    [Fact]
    public void Fit_ValidateReturnsAnUndeclaredMetric_NamesTheBrokenContract()
    {
        using var net = new ToyNet();
        using var problem = new BrokenProblem { MetricNames = ["val_loss"] };   // Validate returns val_acc too
        var e = Assert.Throws<InvalidOperationException>(() => new Trainer(new TrainerOptions { Epochs = 1, MonitorMetric = "val_loss" }).Fit(net, problem));
        Assert.Equal("BrokenProblem.Validate returned the metric 'val_acc' after epoch 1, which its MetricNames [val_loss] do not declare.", e.Message);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Epochs = 0, LearningRate = -1, Momentum = 1.5, EarlyStoppingPatience = 0 }));
        Assert.Contains("Epochs", e.Message);
        Assert.Contains("LearningRate", e.Message);
        Assert.Contains("Momentum", e.Message);
        Assert.Contains("EarlyStoppingPatience", e.Message);
    }

    [Fact]
    public void LearningRateAt_Schedules_FollowFormulas()
    {
        var cosine = new TrainerOptions { Epochs = 4, LearningRate = 1, Schedule = LearningRateSchedule.Cosine };
        Assert.Equal(1.0, cosine.LearningRateAt(1), 12);
        Assert.Equal(0.5, cosine.LearningRateAt(3), 12); // 0.5·(1 + cos(π·2/4)) = 0.5
        var step = new TrainerOptions { Epochs = 10, LearningRate = 1, Schedule = LearningRateSchedule.Step, StepEpochs = 3, StepGamma = 0.5 };
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5, 0.25], Enumerable.Range(1, 7).Select(step.LearningRateAt));
    }

    [Fact]
    public void Fit_TrainingStep_LeavesNoLiveTensors()
    {
        torch.manual_seed(1);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        var trainer = new Trainer(new TrainerOptions { Epochs = 1, LossReadEveryBatches = 1 });
        trainer.Fit(net, problem); // warm-up: optimizer state and gradients are allocated once
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        trainer.Fit(net, problem);
        trainer.Fit(net, problem);
        // Each Fit creates (and disposes) its optimizer; gradients persist on the parameters, so the count is flat.
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Fit_AverageFromEpoch_LeavesMeanOfEpochWeightsAndSameTrajectory()
    {
        var options = new TrainerOptions { Epochs = 4, Seed = 3, LearningRate = 0.05 };
        var atEpochEnd = new Dictionary<int, float[]>();
        torch.manual_seed(6);
        using var plain = new ToyNet();
        TrainingResult plainResult;
        using (var p = new ToyProblem())
            plainResult = new Trainer(options).Fit(plain, p, new SyncProgress(r =>
            {
                if (r.Kind == TrainingProgressKind.Epoch) atEpochEnd[r.Epoch] = Weights(plain);
            }));

        torch.manual_seed(6);
        using var averagedNet = new ToyNet();
        TrainingResult result;
        using (var p = new ToyProblem())
            result = new Trainer(options with { AverageFromEpoch = 2 }).Fit(averagedNet, p);

        // Averaging only reads the weights: the epochs train exactly as without it.
        Assert.Equal(plainResult.History.Select(h => h.TrainLoss), result.History.Select(h => h.TrainLoss));
        Assert.Null(plainResult.Averaged);
        Assert.NotNull(result.Averaged);
        Assert.Equal((2, 4), (result.Averaged!.FirstEpoch, result.Averaged.LastEpoch));
        Assert.Contains("val_acc", result.Averaged.Metrics.Keys);
        // The model holds the mean of the end-of-epoch weights 2..4; float32 sums of 3 values agree to ~1e-7 relative.
        var actual = Weights(averagedNet);
        for (int i = 0; i < actual.Length; i++)
            Assert.Equal((atEpochEnd[2][i] + atEpochEnd[3][i] + atEpochEnd[4][i]) / 3, actual[i], 1e-6f);
        Assert.False(averagedNet.training);
    }

    [Fact]
    public void Fit_AverageFromEpoch_ValidatesTheAverage()
    {
        torch.manual_seed(8);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        var result = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.05, AverageFromEpoch = 2 }).Fit(net, problem);
        Assert.Equal(problem.Validate(net, CancellationToken.None)["val_loss"], result.Averaged!.Metrics["val_loss"], 1e-9);
    }

    [Fact]
    public void Fit_ResumeAfterAveragingStarted_ThrowsNamingOption()
    {
        string path = Path.Combine(dir, "avg.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        new Trainer(options with { Epochs = 2, CheckpointPath = path }).Fit(net, problem);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(options with { Epochs = 4, ResumeFrom = path, AverageFromEpoch = 2 }).Fit(net, problem));
        Assert.Contains("AverageFromEpoch", e.Message);
        // Resuming before the averaged range is fine.
        var resumed = new Trainer(options with { Epochs = 4, ResumeFrom = path, AverageFromEpoch = 3 }).Fit(net, problem);
        Assert.Equal((3, 4), (resumed.Averaged!.FirstEpoch, resumed.Averaged.LastEpoch));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Constructor_AverageFromEpochOutsideEpochs_ThrowsNamingOption(int from)
    {
        var e = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Epochs = 4, AverageFromEpoch = from }));
        Assert.Contains($"AverageFromEpoch must be in [1, Epochs=4]", e.Message);
        Assert.Contains($"got {from}", e.Message);
    }

    [Fact]
    public void Fit_WithAveraging_LeavesNoLiveTensors()
    {
        torch.manual_seed(1);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        var trainer = new Trainer(new TrainerOptions { Epochs = 2, AverageFromEpoch = 1 });
        trainer.Fit(net, problem); // warm-up, as in Fit_TrainingStep_LeavesNoLiveTensors
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        trainer.Fit(net, problem);
        trainer.Fit(net, problem);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData(1, "Epoch 2 batch 3: the loss is NaN; expected a finite loss.")]
    [InlineData(20, "Epoch 2 batch 8: the loss is NaN (the loss is read every 20 batches; the first non-finite batch is one of 1–8)")]
    public void Fit_LossBecomesNaN_ThrowsNamingEpochAndBatchAndKeepsEarlierCheckpoint(int readEvery, string expected)
    {
        string path = Path.Combine(dir, "nan.bin");
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new NaNFromProblem(epoch: 2, batch: 3);
        var trainer = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.05, CheckpointPath = path, LossReadEveryBatches = readEvery });

        var e = Assert.Throws<InvalidOperationException>(() => trainer.Fit(net, problem));

        Assert.Contains(expected, e.Message);
        Assert.Contains($"the checkpoint '{path}' is left as it was", e.Message);
        var (loaded, info) = Checkpoint.Load(path);
        using (loaded)
        {
            Assert.Equal(1, info.Metadata["epoch"]!.GetValue<int>());
            Assert.All(Weights((ToyNet)loaded), w => Assert.True(float.IsFinite(w)));
        }
    }

    [Fact]
    public void Fit_ResumeWithOtherOptimizer_ThrowsSavedVsRequested()
    {
        string path = Path.Combine(dir, "adam.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        new Trainer(options with { Epochs = 1, CheckpointPath = path }).Fit(net, problem);

        var e = Assert.Throws<ArgumentException>(() => new Trainer(options with { Epochs = 2, ResumeFrom = path, Optimizer = OptimizerKind.Sgd }).Fit(net, problem));

        Assert.Contains($"Cannot resume from '{path}': it was trained with optimizer Adam, these options request Optimizer = Sgd.", e.Message);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.9, 0.0, "WeightDecay: saved 0.01, requested 0")]
    [InlineData(OptimizerKind.Sgd, 0.5, 0.01, "Momentum: saved 0.9, requested 0.5")]
    public void Fit_ResumeWithOtherOptimizerSettings_ThrowsSavedVsRequested(OptimizerKind optimizer, double momentum, double weightDecay, string expected)
    {
        string path = Path.Combine(dir, "settings.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss", Optimizer = optimizer, WeightDecay = 0.01, Momentum = 0.9 };
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        new Trainer(options with { Epochs = 1, CheckpointPath = path }).Fit(net, problem);

        var e = Assert.Throws<ArgumentException>(() =>
            new Trainer(options with { Epochs = 2, ResumeFrom = path, Momentum = momentum, WeightDecay = weightDecay }).Fit(net, problem));

        Assert.Contains($"'{Trainer.OptimizerStatePath(path)}'", e.Message);
        Assert.Contains(expected, e.Message);
        // The same settings resume.
        var resumed = new Trainer(options with { Epochs = 2, ResumeFrom = path }).Fit(net, problem);
        Assert.Equal([1, 2], resumed.History.Select(h => h.Epoch));
    }

    [Fact]
    public void Fit_ResumeWithOptimizerStateOfAnotherSave_ThrowsNamingBothHashes()
    {
        string path = Path.Combine(dir, "tied.bin"), other = Path.Combine(dir, "other.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        new Trainer(options with { Epochs = 1, CheckpointPath = path }).Fit(net, problem);
        new Trainer(options with { Epochs = 2, CheckpointPath = other }).Fit(net, problem);
        string expected = Checkpoint.ReadInfo(path).Metadata["trainer"]!["optimizer_state_sha256"]!.GetValue<string>();
        // A state file left over from another run (or written by a save whose checkpoint never landed) beside this checkpoint.
        File.Copy(Trainer.OptimizerStatePath(other), Trainer.OptimizerStatePath(path), overwrite: true);

        var e = Assert.Throws<InvalidDataException>(() => new Trainer(options with { Epochs = 2, ResumeFrom = path }).Fit(net, problem));

        Assert.Contains($"the optimizer state '{Trainer.OptimizerStatePath(path)}' does not belong to it", e.Message);
        Assert.Contains($"expected SHA-256 {expected}", e.Message);
        Assert.Contains($"over {new FileInfo(Trainer.OptimizerStatePath(path)).Length} bytes", e.Message);
    }

    [Fact]
    public void Fit_ResumeFromNonStringMonitorMetric_ThrowsInvalidDataNamingFile()
    {
        string path = Path.Combine(dir, "metric.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        new Trainer(options with { Epochs = 1, CheckpointPath = path }).Fit(net, problem);
        string sidecar = Checkpoint.SidecarPath(path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        json["metadata"]!["trainer"]!["monitor_metric"] = 3;
        File.WriteAllText(sidecar, json.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => new Trainer(options with { Epochs = 2, ResumeFrom = path }).Fit(net, problem));

        Assert.Contains($"Checkpoint '{path}' has malformed trainer metadata", e.Message);
    }

    [Theory]
    [InlineData("monitored metric", typeof(ArgumentException))]
    [InlineData("optimizer", typeof(ArgumentException))]
    [InlineData("weight decay", typeof(ArgumentException))]
    [InlineData("averaging", typeof(ArgumentException))]
    [InlineData("optimizer state of another save", typeof(InvalidDataException))]
    public void Fit_RefusedResume_LeavesParametersBitIdentical(string refusal, Type expected)
    {
        string path = Path.Combine(dir, "refused.bin"), other = Path.Combine(dir, "refused-other.bin");
        var options = new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss" };
        torch.manual_seed(4);
        using (var trained = new ToyNet())
        using (var p = new ToyProblem())
        {
            new Trainer(options with { Epochs = 2, CheckpointPath = path }).Fit(trained, p);
            new Trainer(options with { Epochs = 1, CheckpointPath = other }).Fit(trained, p);
        }
        if (refusal == "optimizer state of another save")
            File.Copy(Trainer.OptimizerStatePath(other), Trainer.OptimizerStatePath(path), overwrite: true);
        var resume = options with { Epochs = 4, ResumeFrom = path };
        resume = refusal switch
        {
            "monitored metric" => resume with { MonitorMetric = "val_loss" },
            "optimizer" => resume with { Optimizer = OptimizerKind.Sgd },
            "weight decay" => resume with { WeightDecay = 0.01 },
            "averaging" => resume with { AverageFromEpoch = 2 },
            _ => resume,
        };
        torch.manual_seed(9);   // other initial weights than the checkpoint's, so a load would show
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        float[] before = Weights(net);

        Assert.Throws(expected, () => new Trainer(resume).Fit(net, problem));

        Assert.Equal(before, Weights(net));
        Assert.Equal(0, problem.BatchesEnumerated);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void Fit_MonitoredMetricNotFinite_ThrowsNamingMetricAndEpochAndKeepsEarlierCheckpoint(double bad, string shown)
    {
        string path = Path.Combine(dir, "nan-metric.bin");
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { BadMetricFromEpoch = 2, BadMetricValue = bad };
        var trainer = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.05, CheckpointPath = path });

        var e = Assert.Throws<InvalidOperationException>(() => trainer.Fit(net, problem));

        Assert.Contains($"Epoch 2: the monitored metric 'val_loss' is {shown}; expected a finite value.", e.Message);
        Assert.Contains($"the checkpoint '{path}' is left as it was", e.Message);
        Assert.Equal(1, Checkpoint.ReadInfo(path).Metadata["epoch"]!.GetValue<int>());
        Assert.False(net.training);
    }

    [Fact]
    public void Fit_MonitoredMetricNaNFromTheFirstEpoch_ThrowsAndWritesNoCheckpoint()
    {
        string path = Path.Combine(dir, "never.bin");
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { BadMetricFromEpoch = 1, BadMetricValue = double.NaN };

        var e = Assert.Throws<InvalidOperationException>(() =>
            new Trainer(new TrainerOptions { Epochs = 2, CheckpointPath = path }).Fit(net, problem));

        Assert.Contains("Epoch 1: the monitored metric 'val_loss' is NaN", e.Message);
        Assert.Contains("no checkpoint was written", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Fit_UnmonitoredMetricNaN_TrainsAndKeepsIt()
    {
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { BadMetricFromEpoch = 1, BadMetricValue = double.NaN, BadMetric = "val_acc" };

        var result = new Trainer(new TrainerOptions { Epochs = 2, LearningRate = 0.05 }).Fit(net, problem);

        Assert.Equal([1, 2], result.History.Select(h => h.Epoch));
        Assert.All(result.History, h => Assert.True(double.IsNaN(h.Metrics["val_acc"])));
        Assert.True(result.BestEpoch > 0);
    }

    [Theory]
    [InlineData(Breakage.LossNull, "BrokenProblem.Loss returned null; expected a scalar tensor that requires grad.")]
    [InlineData(Breakage.LossPerSample, "BrokenProblem.Loss returned a tensor of shape [32]; expected a scalar tensor (shape [])")]
    [InlineData(Breakage.LossDetached, "BrokenProblem.Loss returned a tensor that does not require grad; expected a scalar tensor that requires grad")]
    [InlineData(Breakage.TrainBatchesNull, "BrokenProblem.TrainBatches returned null for epoch 1; expected a sequence of batches.")]
    [InlineData(Breakage.ValidateNull, "BrokenProblem.Validate returned null after epoch 1; expected a dictionary of metrics.")]
    [InlineData(Breakage.NoBatches, "BrokenProblem.TrainBatches returned no batches for epoch 1; expected at least one.")]
    public void Fit_ProblemBreaksItsContract_ThrowsNamingProblemAndMethod(Breakage breakage, string expected)
    {
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { Breakage = breakage };

        var e = Assert.Throws<InvalidOperationException>(() => new Trainer(new TrainerOptions { Epochs = 2 }).Fit(net, problem));

        Assert.Contains(expected, e.Message);
        Assert.False(net.training);
    }

    [Fact]
    public void Fit_AveragedWeightsValidateNull_ThrowsNamingProblemAndMethod()
    {
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { Breakage = Breakage.ValidateNullAfterEpochs, BreakAfterEpochs = 2 };

        var e = Assert.Throws<InvalidOperationException>(() =>
            new Trainer(new TrainerOptions { Epochs = 2, AverageFromEpoch = 1 }).Fit(net, problem));

        Assert.Contains("BrokenProblem.Validate returned null for the averaged weights; expected a dictionary of metrics.", e.Message);
    }

    [Theory]
    [InlineData(LearningRateSchedule.Step, 10, 0, 0.0, "StepEpochs must be at least 1, got 0.")]
    [InlineData(LearningRateSchedule.Cosine, 0, 10, 0.0, "Epochs must be at least 1, got 0.")]
    [InlineData(LearningRateSchedule.Cosine, 10, 10, 2.0, "MinLearningRate must be in [0, LearningRate=1], got 2.")]
    public void LearningRateAt_InvalidOptions_ThrowsNamingTheField(LearningRateSchedule schedule, int epochs, int stepEpochs, double minLearningRate, string expected)
    {
        var options = new TrainerOptions { Schedule = schedule, Epochs = epochs, StepEpochs = stepEpochs, LearningRate = 1, MinLearningRate = minLearningRate };

        var e = Assert.Throws<ArgumentException>(() => options.LearningRateAt(1));

        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(LearningRateSchedule.Cosine, 0)]
    [InlineData(LearningRateSchedule.Cosine, 5)]
    [InlineData(LearningRateSchedule.Step, 0)]
    public void LearningRateAt_EpochOutsideTheSchedule_ThrowsNamingEpochAndRange(LearningRateSchedule schedule, int epoch)
    {
        var options = new TrainerOptions { Schedule = schedule, Epochs = 4, LearningRate = 1 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => options.LearningRateAt(epoch));

        Assert.Equal("epoch", e.ParamName);
        Assert.Contains(schedule == LearningRateSchedule.Cosine ? "Expected an epoch in [1, Epochs=4]" : "Expected an epoch >= 1", e.Message);
        Assert.Contains($"found {epoch}", e.Message);
    }

    [Fact]
    public void LearningRateAt_StepBeyondEpochs_KeepsDecaying()
    {
        // A step or constant schedule is defined past the last epoch (only the cosine curve is tied to Epochs).
        var step = new TrainerOptions { Epochs = 2, LearningRate = 1, Schedule = LearningRateSchedule.Step, StepEpochs = 2, StepGamma = 0.5 };
        Assert.Equal(0.25, step.LearningRateAt(5), 12);
    }

    [Fact]
    public void Fit_ModelWithoutParameters_ThrowsNamingModel()
    {
        using var relu = nn.ReLU();
        using var problem = new ToyProblem();

        var e = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Epochs = 1 }).Fit(relu, problem));

        Assert.Equal("model", e.ParamName);
        Assert.Contains("The model has no parameters to train (are its submodules registered fields?)", e.Message);
        Assert.Equal(0, problem.BatchesEnumerated);
    }

    [Fact]
    public void Fit_MonitoredMetricNaNWithoutCheckpointPath_SaysNoneIsSet()
    {
        torch.manual_seed(5);
        using var net = new ToyNet();
        using var problem = new BrokenProblem { BadMetricFromEpoch = 1, BadMetricValue = double.NaN };

        var e = Assert.Throws<InvalidOperationException>(() => new Trainer(new TrainerOptions { Epochs = 2 }).Fit(net, problem));

        Assert.Contains("Epoch 1: the monitored metric 'val_loss' is NaN; expected a finite value. Training stopped; no checkpoint was written (CheckpointPath is not set).", e.Message);
    }

    /// <summary>Trains <paramref name="epochs"/> epochs writing a trainer checkpoint to <paramref name="path"/>; returns the result.</summary>
    private static TrainingResult TrainWithCheckpoint(string path, int epochs)
    {
        torch.manual_seed(4);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        return new Trainer(new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss", Epochs = epochs, CheckpointPath = path }).Fit(net, problem);
    }

    private static void EditTrainerMetadata(string path, Action<JsonObject> edit)
    {
        string sidecar = Checkpoint.SidecarPath(path);
        var json = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        edit(json["metadata"]!["trainer"]!.AsObject());
        File.WriteAllText(sidecar, json.ToJsonString());
    }

    [Fact]
    public void Fit_ResumeFromCheckpointNotWrittenByTrainer_ThrowsInvalidDataAndKeepsParameters()
    {
        string path = Path.Combine(dir, "plain.bin");
        using (var saved = new ToyNet()) Checkpoint.Save(path, saved, new JsonObject { ["epoch"] = 3 });
        torch.manual_seed(9);
        using var net = new ToyNet();
        using var problem = new ToyProblem();
        float[] before = Weights(net);

        var e = Assert.Throws<InvalidDataException>(() =>
            new Trainer(new TrainerOptions { Epochs = 4, MonitorMetric = "train_loss", ResumeFrom = path }).Fit(net, problem));

        Assert.Contains($"Checkpoint '{path}' was not written by the trainer: its metadata has no 'trainer' object", e.Message);
        Assert.Equal(before, Weights(net));
    }

    [Theory]
    [InlineData("epoch")]
    [InlineData("best_epoch")]
    [InlineData("history[0].metrics")]
    [InlineData("history[0].learning_rate")]
    public void Fit_ResumeFromTrainerMetadataMissingAField_ThrowsNamingIt(string field)
    {
        string path = Path.Combine(dir, "fields.bin");
        TrainWithCheckpoint(path, epochs: 1);
        string key = field.Split('.')[^1];
        EditTrainerMetadata(path, t => (field.StartsWith("history", StringComparison.Ordinal) ? t["history"]![0]!.AsObject() : t).Remove(key));
        using var net = new ToyNet();
        using var problem = new ToyProblem();

        var e = Assert.Throws<InvalidDataException>(() =>
            new Trainer(new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss", Epochs = 2, ResumeFrom = path }).Fit(net, problem));

        Assert.Contains($"Checkpoint '{path}': expected a '{key}' field in the trainer metadata, found none", e.Message);
    }

    [Fact]
    public void Fit_ResumeFromTrainerMetadataWithNullHistoryEntry_ThrowsSayingSo()
    {
        string path = Path.Combine(dir, "history.bin");
        TrainWithCheckpoint(path, epochs: 1);
        EditTrainerMetadata(path, t => t["history"] = new JsonArray(null, null));
        using var net = new ToyNet();
        using var problem = new ToyProblem();

        var e = Assert.Throws<InvalidDataException>(() =>
            new Trainer(new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss", Epochs = 2, ResumeFrom = path }).Fit(net, problem));

        Assert.Contains($"Checkpoint '{path}': expected history entries, found null", e.Message);
    }

    [Fact]
    public void Fit_ResumeWithoutOptimizerState_ContinuesWithAFreshOptimizer()
    {
        // The weights and history come from the checkpoint; the optimizer restarts (a warning is logged), so the run goes on.
        string path = Path.Combine(dir, "no-optimizer.bin");
        var first = TrainWithCheckpoint(path, epochs: 2);
        File.Delete(Trainer.OptimizerStatePath(path));
        using var net = new ToyNet();
        using var problem = new ToyProblem();

        var result = new Trainer(new TrainerOptions { Seed = 2, LearningRate = 0.02, MonitorMetric = "train_loss", Epochs = 3, ResumeFrom = path }).Fit(net, problem);

        Assert.Equal([1, 2, 3], result.History.Select(h => h.Epoch));
        Assert.Equal(first.History[1].TrainLoss, result.History[1].TrainLoss);
        Assert.Equal(256 / 32, problem.BatchesEnumerated);   // one epoch trained: the third
    }

    [Fact]
    public void Fit_Progress_ReportsTheScheduledLearningRateAndMeasuredSamplesPerSecond()
    {
        // Cosine schedule from 0.1 to 0.01 over 3 epochs: lr(e) = 0.01 + 0.5·0.09·(1 + cos(π(e − 1)/3)), i.e. 0.1, 0.0775, 0.0325.
        double[] scheduled = [0.1, 0.01 + (0.045 * (1 + Math.Cos(Math.PI / 3))), 0.01 + (0.045 * (1 + Math.Cos(2 * Math.PI / 3)))];
        torch.manual_seed(3);
        using var net = new ToyNet();
        using var problem = new ToyProblem();   // 256 samples in 8 batches of 32
        var reports = new List<(TrainingProgress Progress, long At)>();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var trainer = new Trainer(new TrainerOptions { Epochs = 3, LearningRate = 0.1, MinLearningRate = 0.01, Schedule = LearningRateSchedule.Cosine });

        var result = trainer.Fit(net, problem, new SyncProgress(p => reports.Add((p, System.Diagnostics.Stopwatch.GetTimestamp()))));

        double Seconds(long from, long to) => (double)(to - from) / System.Diagnostics.Stopwatch.Frequency;
        Assert.Equal(3 * (8 + 1), reports.Count);
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            var batches = reports.Where(r => r.Progress.Epoch == epoch && r.Progress.Kind == TrainingProgressKind.Batch).ToArray();
            var end = reports.Single(r => r.Progress.Epoch == epoch && r.Progress.Kind == TrainingProgressKind.Epoch);
            Assert.Equal(8, batches.Length);
            Assert.All(batches.Append(end), r => Assert.Equal(scheduled[epoch - 1], r.Progress.LearningRate, 15));
            // The trainer's clock for an epoch starts after our `start` and before the epoch's first report t(1), and is read
            // before each report t(k): elapsed(k) ≤ t(k) − start, and elapsed(k) ≥ t(k−1) − t(1) since batch k is trained
            // after report k − 1 returned. So 32k / (t(k) − start) ≤ rate(k) ≤ 32k / (t(k−1) − t(1)), whatever the machine's
            // speed; 1 µs of slack on the upper bound covers TimeSpan's 100 ns ticks.
            for (int k = 1; k <= 8; k++)
            {
                double rate = batches[k - 1].Progress.SamplesPerSecond;
                Assert.True(rate >= 32 * k / Seconds(start, batches[k - 1].At), $"epoch {epoch} batch {k}: {rate} samples/s is below the bound");
                if (k >= 3)
                {
                    Assert.True(rate <= 32 * k / (Seconds(batches[0].At, batches[k - 2].At) - 1e-6), $"epoch {epoch} batch {k}: {rate} samples/s is above the bound");
                }
            }

            // The epoch's figure is its 256 samples over its own training time, which the history records.
            EpochRecord record = result.History[epoch - 1];
            Assert.Equal(256 / record.TrainSeconds, end.Progress.SamplesPerSecond, 256 / record.TrainSeconds * 1e-12);
            Assert.Equal(record.SamplesPerSecond, end.Progress.SamplesPerSecond);
            Assert.True(end.Progress.SamplesPerSecond <= 256 / (Seconds(batches[0].At, batches[7].At) - 1e-6));
            Assert.True(end.Progress.SamplesPerSecond >= 256 / Seconds(start, end.At));
        }
    }

    public enum Breakage { None, LossNull, LossPerSample, LossDetached, TrainBatchesNull, ValidateNull, ValidateNullAfterEpochs, NoBatches }

    /// <summary>The toy problem, broken on request: a contract violation, or a non-finite validation metric from an epoch on.</summary>
    private sealed class BrokenProblem : ITrainingProblem<(Tensor X, Tensor Y)>, IDisposable
    {
        private readonly ToyProblem inner = new();
        private int validations;

        public Breakage Breakage { get; init; }
        public int BreakAfterEpochs { get; init; }
        public int BadMetricFromEpoch { get; init; } = int.MaxValue;
        public double BadMetricValue { get; init; }
        public string BadMetric { get; init; } = "val_loss";
        public IReadOnlyCollection<string>? MetricNames { get; init; }
        public int BatchesEnumerated => inner.BatchesEnumerated;

        public IEnumerable<(Tensor X, Tensor Y)> TrainBatches(int epoch, Random rng) => Breakage switch
        {
            Breakage.TrainBatchesNull => null!,
            Breakage.NoBatches => [],
            _ => inner.TrainBatches(epoch, rng),
        };

        public Tensor Loss(nn.Module model, (Tensor X, Tensor Y) b) => Breakage switch
        {
            Breakage.LossNull => null!,
            Breakage.LossPerSample => nn.functional.cross_entropy(((nn.Module<Tensor, Tensor>)model).call(b.X), b.Y, reduction: nn.Reduction.None),
            Breakage.LossDetached => inner.Loss(model, b).detach(),
            _ => inner.Loss(model, b),
        };

        public long CountSamples((Tensor X, Tensor Y) b) => inner.CountSamples(b);

        public IReadOnlyDictionary<string, double> Validate(nn.Module model, CancellationToken cancellationToken)
        {
            validations++;
            if (Breakage == Breakage.ValidateNull || (Breakage == Breakage.ValidateNullAfterEpochs && validations > BreakAfterEpochs))
                return null!;
            var metrics = new Dictionary<string, double>(inner.Validate(model, cancellationToken));
            if (validations >= BadMetricFromEpoch)
                metrics[BadMetric] = BadMetricValue;
            return metrics;
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>The toy problem whose loss turns NaN from a given batch of a given epoch on (as a diverging run's would).</summary>
    private sealed class NaNFromProblem(int epoch, int batch) : ITrainingProblem<(Tensor X, Tensor Y)>, IDisposable
    {
        private readonly ToyProblem inner = new();
        private int currentEpoch, currentBatch;

        public IEnumerable<(Tensor X, Tensor Y)> TrainBatches(int epochNumber, Random rng)
        {
            currentEpoch = epochNumber;
            currentBatch = 0;
            return inner.TrainBatches(epochNumber, rng);
        }

        public Tensor Loss(nn.Module model, (Tensor X, Tensor Y) b)
        {
            currentBatch++;
            var loss = inner.Loss(model, b);
            return currentEpoch > epoch || (currentEpoch == epoch && currentBatch >= batch) ? loss.mul(float.NaN) : loss;
        }

        public long CountSamples((Tensor X, Tensor Y) b) => inner.CountSamples(b);

        public IReadOnlyDictionary<string, double> Validate(nn.Module model, CancellationToken cancellationToken) => inner.Validate(model, cancellationToken);

        public void Dispose() => inner.Dispose();
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need synchronous delivery.</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
