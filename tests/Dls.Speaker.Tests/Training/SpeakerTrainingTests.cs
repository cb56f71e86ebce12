using Dls.Audio;
using Dls.Audio.IO;
using Dls.Models.Training;
using Dls.Speaker.Data;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Training;
using Dls.Speaker.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

[Collection("TorchGlobalState")]
public sealed class SpeakerTrainingTests
{
    [Fact]
    public void Train_TinyDataset_RestoresBestEpochAndCalibratesThreshold()
    {
        using var tree = new TempTree();
        var dataset = TinyDataset(tree);
        var request = TinyRequest(3);
        var result = SpeakerTraining.Train(dataset, request);
        using var encoder = result.Model.Encoder;

        Assert.Equal(2, result.ValidationSpeakers.Count);
        Assert.Equal(4, result.TrainSpeakers.Count);
        Assert.Empty(result.TrainSpeakers.Intersect(result.ValidationSpeakers));
        Assert.Equal(3, result.Result.History.Count);
        Assert.InRange(result.Result.BestMetric, 0.0, 1.0);
        Assert.Equal("val_selection", result.Result.MonitorMetric);
        Assert.InRange(result.Model.Threshold, -1.0, 1.0);

        // The returned encoder is the best epoch's: re-validating it reproduces that epoch's EER exactly.
        double bestEer = result.Result.History.Single(h => h.Epoch == result.Result.BestEpoch).Metrics["val_eer"];
        Assert.Equal(bestEer, Revalidate(dataset, request, result, encoder), 1e-9);
    }

    [Fact]
    public void Train_AverageFromEpoch_KeepsTheAverageAndItsThreshold()
    {
        using var tree = new TempTree();
        var dataset = TinyDataset(tree);
        var request = TinyRequest(3, averageFromEpoch: 2);
        var result = SpeakerTraining.Train(dataset, request);
        using var encoder = result.Model.Encoder;

        var averaged = result.Result.Averaged;
        Assert.NotNull(averaged);
        Assert.Equal((2, 3), (averaged!.FirstEpoch, averaged.LastEpoch));
        Assert.Equal(averaged.Metrics["val_threshold_eer"], result.Model.Threshold);
        Assert.Same(averaged.Metrics, SpeakerTraining.KeptMetrics(result));
        Assert.Equal(new[] { 2, 3 }, SpeakerTraining.Describe(result)["averaged_epochs"]!.AsArray().Select(n => n!.GetValue<int>()));
        // The returned encoder is the average: re-validating it reproduces the averaged EER exactly.
        Assert.Equal(averaged.Metrics["val_eer"], Revalidate(dataset, request, result, encoder), 1e-9);
    }

    [Fact]
    public void Train_CenterEmbeddings_StoresTrainingMeanAndCenteredThreshold()
    {
        using var tree = new TempTree();
        var dataset = TinyDataset(tree);
        var request = TinyRequest(2) with { CenterEmbeddings = true };
        var result = SpeakerTraining.Train(dataset, request);
        using var encoder = result.Model.Encoder;

        // The stored mean is the mean embedding of the training speakers' whole utterances.
        using var extractor = new SpeakerFeatureExtractor(request.Features);
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(result.TrainSpeakers), extractor);
        var expected = SpeakerEmbeddings.Mean(EncoderBatching.EmbedAll(encoder, train.Features));
        Assert.Equal(expected, result.Model.EmbeddingMean!);
        // The threshold is the centered validation EER's, not the plain one's.
        Assert.NotNull(result.CenteredValidation);
        Assert.Equal(result.CenteredValidation!.Value.Threshold, result.Model.Threshold);
        Assert.Equal(result.CenteredValidation.Value.Eer, SpeakerTraining.Describe(result)["val_eer_centered"]!.GetValue<double>());
    }

    [Fact]
    public void TrainBatches_LabelsFollowIdentitiesAndStayBalancedInLoss()
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        using var problem = new SpeakerTrainingProblem(train, validation, new SpeakerTrainingOptions { PairsPerEpoch = 6, PairsPerBatch = 3, MinCropFrames = 5, MaxCropFrames = 8 });
        using var scope = NewDisposeScope();
        var batches = problem.TrainBatches(1, new Random(1)).ToList();
        Assert.Equal(2, batches.Count);
        foreach (var b in batches)
        {
            Assert.Equal(15, b.Pairs);                               // 6 utterances → C(6,2)
            Assert.Equal(15, b.PairMask.sum().item<float>());
            Assert.InRange(b.Lengths.max().item<long>(), 5, 8);     // crops respected
            // Drawn pair k (rows k and 3 + k) is labelled as drawn: the first pairs are same-speaker (PairSampler order is shuffled, so check consistency only).
            Assert.True((b.SameSpeaker * b.PairMask).sum().item<float>() >= 1, "a batch of drawn pairs has no same-speaker pair");
        }
        using var model = new SiameseSpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 4, EmbeddingSize = 4 }));
        var loss = problem.Loss(model, batches[0]);
        Assert.Equal(0, loss.dim());
        Assert.True(float.IsFinite(loss.item<float>()));
    }

    [Theory]
    [InlineData(1, 2, 6)]   // one warp: both speakers, 2 groups × C(3,2) = 6 same-identity pairs of 15
    [InlineData(2, 3, 9)]   // two warps: 3 of the 4 (speaker, warp) identities, 3 × C(3,2) = 9 of C(9,2) = 36
    public void TrainBatches_SpeakerGroups_LabelsEachGroupAsOneIdentity(int warps, int groups, int expectedSame)
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        var options = new SpeakerTrainingOptions
        {
            PairsPerEpoch = 9, SpeakersPerBatch = groups, UtterancesPerSpeaker = 3, MinCropFrames = 5, MaxCropFrames = 8,
            WarpFactors = warps == 1 ? [1.0] : [0.9, 1.0],
        };
        using var problem = new SpeakerTrainingProblem(train, validation, options);
        using var scope = NewDisposeScope();
        var batches = problem.TrainBatches(1, new Random(3)).ToList();
        int n = groups * 3;
        Assert.Equal(Math.Max(1, 2 * 9 / n), batches.Count);   // as many utterances per epoch as 9 drawn pairs would embed
        foreach (var b in batches)
        {
            Assert.Equal(n, b.Features.shape[0]);
            Assert.Equal(n * (n - 1) / 2, b.Pairs);
            Assert.Equal(expectedSame, (b.SameSpeaker * b.PairMask).sum().item<float>());
            // Groups are consecutive rows: rows 0..2 are one identity, row 3 starts another.
            Assert.Equal(1, b.SameSpeaker[0, 2].item<float>());
            Assert.Equal(0, b.SameSpeaker[2, 3].item<float>());
        }
    }

    [Fact]
    public void TrainBatches_Identities_MatchSameSpeakerLabelsAndIdentityCount()
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        var options = new SpeakerTrainingOptions { PairsPerEpoch = 9, SpeakersPerBatch = 3, UtterancesPerSpeaker = 3, MinCropFrames = 5, MaxCropFrames = 8, WarpFactors = [0.9, 1.0] };
        using var problem = new SpeakerTrainingProblem(train, validation, options);
        Assert.Equal(4, problem.IdentityCount);   // 2 speakers × 2 warps
        using var scope = NewDisposeScope();
        foreach (var b in problem.TrainBatches(1, new Random(3)))
        {
            var ids = b.Identities.data<long>().ToArray();
            Assert.All(ids, i => Assert.InRange(i, 0, problem.IdentityCount - 1));
            for (int a = 0; a < ids.Length; a++)
                for (int c = a + 1; c < ids.Length; c++)
                    Assert.Equal(ids[a] == ids[c] ? 1f : 0f, b.SameSpeaker[a, c].item<float>());
        }
    }

    [Fact]
    public void Loss_IdentityLossWeight_AddsWeightedAdditiveMarginSoftmax()
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        var plainOptions = new SpeakerTrainingOptions { PairsPerEpoch = 6, SpeakersPerBatch = 2, UtterancesPerSpeaker = 3, MinCropFrames = 5, MaxCropFrames = 8, WarpFactors = [0.9, 1.0] };
        var options = plainOptions with { IdentityLossWeight = 0.5, IdentityLossMargin = 0.3, IdentityLossScale = 10 };
        using var plain = new SpeakerTrainingProblem(train, validation, plainOptions);
        using var problem = new SpeakerTrainingProblem(train, validation, options);
        using var scope = NewDisposeScope();
        var batch = problem.TrainBatches(1, new Random(2)).First();
        manual_seed(1);
        using var model = new SiameseSpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 4, EmbeddingSize = 4 }), problem.IdentityCount);

        using var s10 = 10.0.ToScalar();
        using var m03 = 0.3.ToScalar();
        var e = model.Encoder.forward(batch.Features, batch.Lengths);
        double identityLoss = SiameseLoss.AdditiveMarginSoftmax(model.IdentityCosine(e), batch.Identities, s10, m03).item<float>();
        // The encoder has no dropout, so the same batch embeds identically in both calls; float32 sums agree to ~1e-6.
        Assert.Equal(plain.Loss(model, batch).item<float>() + 0.5 * identityLoss, problem.Loss(model, batch).item<float>(), 1e-5);

        using var headless = new SiameseSpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 4, EmbeddingSize = 4 }));
        var message = Assert.Throws<ArgumentException>(() => problem.Loss(headless, batch)).Message;
        Assert.Contains("with 4 identities", message);
        Assert.Contains("found 0", message);
    }

    [Fact]
    public void TrainBatches_SpeakerGroupsLargerThanIdentities_ThrowsNamingCounts()
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        using var problem = new SpeakerTrainingProblem(train, validation, new SpeakerTrainingOptions { SpeakersPerBatch = 3, UtterancesPerSpeaker = 2 });
        var message = Assert.Throws<InvalidOperationException>(() => problem.TrainBatches(1, new Random(0)).ToList()).Message;
        Assert.Contains("at least 3", message);
        Assert.Contains("found 2 speakers × 1 warps", message);
    }

    [Fact]
    public void Validate_BadBatchAndWarpSettings_ListsEveryProblem()
    {
        var errors = new SpeakerTrainingOptions { SpeakersPerBatch = 1, UtterancesPerSpeaker = 1, HardNegativeIdentities = 1, FrequencyMasks = -1, FrequencyMaskMaxBins = -2, SelectionTieBreak = (SelectionTieBreak)7 }.Validate();
        Assert.Equal(6, errors.Count);
        Assert.Contains(errors, e => e.Contains("SpeakersPerBatch") && e.Contains("found 1"));
        Assert.Contains(errors, e => e.Contains("UtterancesPerSpeaker") && e.Contains("found 1"));
        Assert.Contains(errors, e => e.Contains("HardNegativeIdentities") && e.Contains("[0, SpeakersPerBatch / 2 = 0], found 1"));
        Assert.Contains(errors, e => e.Contains("FrequencyMasks") && e.Contains("found -1"));
        Assert.Contains(errors, e => e.Contains("FrequencyMaskMaxBins") && e.Contains("found -2"));
        Assert.Contains(errors, e => e.Contains("SelectionTieBreak") && e.Contains("found 7"));
    }

    [Fact]
    public void Validate_MorePairsPerBatchThanPerEpoch_ReportedOnlyForDrawnPairs()
    {
        var errors = new SpeakerTrainingOptions { PairsPerEpoch = 32, PairsPerBatch = 64 }.Validate();
        Assert.Equal("PairsPerBatch must be ≤ PairsPerEpoch = 32 when pairs are drawn (SpeakersPerBatch = 0), found 64: an epoch would make no batch.", Assert.Single(errors));
        // Group batches do not use PairsPerBatch (the quick recipe draws 48 pairs' worth with the default 32 per batch).
        Assert.Empty(new SpeakerTrainingOptions { PairsPerEpoch = 16, PairsPerBatch = 32, SpeakersPerBatch = 4 }.Validate());
    }

    [Fact]
    public void Train_InvalidSettings_AllListedBeforeAnyAudioIsRead()
    {
        // Files that do not exist: had features been computed first, this would be a FileNotFound/InvalidData error.
        var dataset = new SpeakerDataset("/nonexistent", Enumerable.Range(0, 8).Select(i => new SpeakerUtterance($"spk{i / 2}", $"/nonexistent/spk{i / 2}/{i}.wav", $"spk{i / 2}/{i}.wav")));
        var request = new SpeakerTrainingRequest
        {
            Encoder = new GruSpeakerEncoderOptions { HiddenSize = 0 },
            Training = new SpeakerTrainingOptions { PairsPerEpoch = 8, PairsPerBatch = 16, BandWarps = [new(1.1, 0.9)], BandWarpKneeBin = 600 },
            Trainer = new TrainerOptions { Epochs = 0 },
            ValidationFraction = 0.5,
        };

        var ex = Assert.Throws<ArgumentException>(() => SpeakerTraining.Train(dataset, request));

        Assert.Equal("request", ex.ParamName);
        Assert.Contains("Encoder.HiddenSize must be ≥ 1, found 0.", ex.Message);
        Assert.Contains("Training.PairsPerBatch must be ≤ PairsPerEpoch = 8", ex.Message);
        Assert.Contains("Training.BandWarpKneeBin must be below the 513 feature bins, found 600.", ex.Message);
        Assert.Contains("Trainer.Epochs must be at least 1, got 0.", ex.Message);
    }

    [Fact]
    public void Constructor_BandWarps_AddOneIdentityPerSpeakerEach()
    {
        using var data = new TwoAndTwoSpeakers();
        var (train, validation) = (data.Train, data.Validation);
        var options = new SpeakerTrainingOptions
        {
            PairsPerEpoch = 12, SpeakersPerBatch = 4, UtterancesPerSpeaker = 3, MinCropFrames = 5, MaxCropFrames = 8,
            WarpFactors = [0.9, 1.0], BandWarps = [new(1.1, 0.9), new(0.9, 1.1)],
        };
        using var problem = new SpeakerTrainingProblem(train, validation, options);
        Assert.Equal(2 * 4, problem.IdentityCount);   // 2 speakers × (2 linear + 2 two-band warps)
        var drawn = problem.DrawGroups(new Random(1)).SelectMany(g => g).ToArray();
        Assert.Contains(drawn, i => i.Warp >= 2);     // the two-band identities are drawn too
    }

    [Fact]
    public void Validate_BadBandWarps_ListsEveryProblem()
    {
        var errors = new SpeakerTrainingOptions { BandWarps = [new(1.1, 3.0)], BandWarpKneeBin = 0 }.Validate();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("BandWarps") && e.Contains("High = 3"));
        Assert.Contains(errors, e => e.Contains("BandWarpKneeBin") && e.Contains("found 0"));
    }

    [Fact]
    public void Validate_BadIdentityLossSettings_ListsEveryProblem()
    {
        var errors = new SpeakerTrainingOptions { IdentityLossWeight = -1, IdentityLossMargin = 1, IdentityLossScale = 0 }.Validate();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("IdentityLossWeight") && e.Contains("found -1"));
        Assert.Contains(errors, e => e.Contains("IdentityLossMargin") && e.Contains("[0, 1), found 1"));
        Assert.Contains(errors, e => e.Contains("IdentityLossScale") && e.Contains("found 0"));
    }

    [Fact]
    public void DrawGroups_HardNegatives_JoinNearVoicesOfOtherSpeakers()
    {
        using var tree = new TempTree();
        // Four close voices (pitch 100–109 Hz, equal spectral tilt) and one far away (300 Hz, much steeper tilt).
        var voices = new (string Id, double F0, double Tilt)[] { ("near0", 100, 1.0), ("near1", 103, 1.0), ("near2", 106, 1.0), ("near3", 109, 1.0), ("far", 300, 2.5) };
        foreach (var (id, f0, tilt) in voices)
        {
            Directory.CreateDirectory(Path.Combine(tree.Root, id));
            for (int u = 0; u < 2; u++)
                AudioFile.Save(Path.Combine(tree.Root, id, $"{u}.wav"), new AudioSignal(TestAudio.Voice(f0, tilt, 0.4, seed: u), TestAudio.Rate));
        }
        var dataset = SpeakerDataset.Open(tree.Root);
        using var extractor = new SpeakerFeatureExtractor();
        using var train = SpeakerFeatureSet.Load(dataset, extractor);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(["near0", "far"]), extractor);
        var options = new SpeakerTrainingOptions { PairsPerEpoch = 100, SpeakersPerBatch = 2, HardNegativeIdentities = 1, UtterancesPerSpeaker = 2 };
        using var problem = new SpeakerTrainingProblem(train, validation, options);

        var groups = problem.DrawGroups(new Random(7)).ToList();
        Assert.Equal(50, groups.Count);                                   // 2 · 100 utterances / (2 identities × 2)
        foreach (var g in groups)
        {
            Assert.NotEqual(g[0].Speaker, g[1].Speaker);                  // a hard negative is another speaker
            // The partner is one of the seed's 3 nearest other speakers: for a near voice, never the far one.
            if (g[0].Speaker != "far") Assert.NotEqual("far", g[1].Speaker);
        }
        // Random seeds: every speaker starts a batch at some point in 50 draws (chance of missing one ≈ 5 · 0.8⁵⁰).
        Assert.Equal(5, groups.Select(g => g[0].Speaker).Distinct().Count());
    }

    [Fact]
    public void SplitSpeakers_SeededFraction_IsDisjointAndReproducible()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 10, utterances: 1, seconds: 0.3);
        var dataset = SpeakerDataset.Open(tree.Root);
        var request = new SpeakerTrainingRequest { ValidationFraction = 0.3, Trainer = new TrainerOptions { Seed = 4 } };
        var (train, validation) = SpeakerTraining.SplitSpeakers(dataset, request);
        Assert.Equal(3, validation.Count);                                    // round(10 · 0.3)
        Assert.Equal(7, train.Count);
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(validation, SpeakerTraining.SplitSpeakers(dataset, request).Validation);
        Assert.Equal(validation.Order(StringComparer.Ordinal), validation);   // sorted
    }

    [Fact]
    public void SplitSpeakers_BadFractionOrTooFewSpeakers_ThrowsWithValues()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 3, utterances: 2, seconds: 0.3);
        var dataset = SpeakerDataset.Open(tree.Root);
        Assert.Contains("found 1.5", Assert.Throws<ArgumentException>(() => SpeakerTraining.SplitSpeakers(dataset, new SpeakerTrainingRequest { ValidationFraction = 1.5 })).Message);
        Assert.Contains("has 3", Assert.Throws<ArgumentException>(() => SpeakerTraining.SplitSpeakers(dataset, new SpeakerTrainingRequest())).Message);
    }

    [Fact]
    public void MaskFrequencies_Bands_TakeTheTrainingMeanAndLeaveTheRest()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 4, utterances: 2, seconds: 0.3);
        var dataset = SpeakerDataset.Open(tree.Root);
        using var extractor = new SpeakerFeatureExtractor();
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk0", "spk1"]), extractor);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk2", "spk3"]), extractor);
        using var problem = new SpeakerTrainingProblem(train, validation, new SpeakerTrainingOptions { FrequencyMasks = 2, FrequencyMaskMaxBins = 30 });
        using var scope = NewDisposeScope();
        var (mean, scale) = train.Statistics();
        var x = train.Features[0];
        var rng = new Random(11);
        int everMasked = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var y = problem.MaskFrequencies(x, rng);
            Assert.Equal(x.shape, y.shape);
            // A bin is either untouched in every frame or the training mean in every frame (exact: multiply by 1 or 0, add).
            var changed = (y - x).abs().amax([0]).gt(0).data<bool>().ToArray();
            var isMean = (y - mean).abs().amax([0]).eq(0).data<bool>().ToArray();
            for (int k = 0; k < changed.Length; k++)
                if (changed[k]) Assert.True(isMean[k], $"bin {k} changed but is not the training mean");
            int count = changed.Count(c => c);
            Assert.InRange(count, 0, 2 * 30);   // two bands of at most 30 bins
            everMasked += count;
        }
        Assert.True(everMasked > 0, "20 draws of two bands masked nothing");
    }

    [Fact]
    public void GroupBatchesAndLoss_ManyEpochs_LeaveNoLiveTensors()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 5, utterances: 4, seconds: 0.4);
        var dataset = SpeakerDataset.Open(tree.Root);
        using var extractor = new SpeakerFeatureExtractor();
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk0", "spk1", "spk2"]), extractor);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk3", "spk4"]), extractor);
        var options = new SpeakerTrainingOptions
        {
            PairsPerEpoch = 24, SpeakersPerBatch = 4, UtterancesPerSpeaker = 2, HardNegativeIdentities = 2, WarpFactors = [0.9, 1.0, 1.1],
            MinCropFrames = 5, MaxCropFrames = 8, FrequencyMasks = 2, FrequencyMaskMaxBins = 20,
        };
        using var problem = new SpeakerTrainingProblem(train, validation, options);
        using var model = new SiameseSpeakerModel(new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 4, EmbeddingSize = 4 }));
        void Epoch(int epoch)
        {
            // As the trainer does: one scope per batch, opened before the batch is drawn.
            using var batches = problem.TrainBatches(epoch, new Random(epoch)).GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
                problem.Loss(model, batches.Current).backward();
            }
            problem.Validate(model, CancellationToken.None);
        }
        Epoch(1);                                                                 // warm-up
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int e = 2; e <= 4; e++) Epoch(e);
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsListingEveryProblem()
    {
        using var data = new TwoAndTwoSpeakers();
        var options = new SpeakerTrainingOptions { PairsPerEpoch = 1, PairsPerBatch = 1, ContrastiveMargin = double.NaN };
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerTrainingProblem(data.Train, data.Validation, options));
        Assert.Equal("options", ex.ParamName);
        Assert.StartsWith("Invalid SpeakerTrainingOptions: ", ex.Message);
        Assert.Contains("PairsPerEpoch must be ≥ 2, found 1.", ex.Message);
        Assert.Contains("PairsPerBatch must be ≥ 2, found 1.", ex.Message);
        Assert.Contains("ContrastiveMargin must be in (0, 2], found NaN.", ex.Message);
    }

    [Fact]
    public void Constructor_BandWarpKneeBeyondTheFeatureBins_ThrowsAndKeepsNoTensor()
    {
        using var data = new TwoAndTwoSpeakers();
        var options = new SpeakerTrainingOptions { BandWarps = [new(1.1, 0.9)], BandWarpKneeBin = 600 };
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var ex = Assert.Throws<ArgumentException>(() => new SpeakerTrainingProblem(data.Train, data.Validation, options));

        Assert.Equal("options", ex.ParamName);
        Assert.Contains("BandWarpKneeBin must be below the 513 feature bins, found 600.", ex.Message);
        // Refused before the training statistics are computed: nothing is left behind that no one can dispose.
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Constructor_ValidationSetOfOneSpeaker_ThrowsAndKeepsNoTensor()
    {
        using var data = new TwoAndTwoSpeakers();
        using var extractor = new SpeakerFeatureExtractor();
        using var oneSpeaker = SpeakerFeatureSet.Load(data.Validation.Dataset.WithSpeakers(["spk2"]), extractor);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var ex = Assert.Throws<ArgumentException>(() => new SpeakerTrainingProblem(data.Train, oneSpeaker));

        Assert.Contains("Trials need at least 2 speakers; the dataset has 1.", ex.Message);
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ValidationTrials_SeededTrialsAmongTheValidationSpeakersOnly()
    {
        using var data = new TwoAndTwoSpeakers();
        using var problem = new SpeakerTrainingProblem(data.Train, data.Validation, new SpeakerTrainingOptions { ValidationSeed = 3 });

        var trials = problem.ValidationTrials;

        // spk2 and spk3 with 3 utterances each: every same-speaker pair once, 2 × C(3, 2) = 6, and as many different-speaker pairs.
        var expectedTargets = new List<(string, string)>();
        foreach (var speaker in new[] { "spk2", "spk3" })
        {
            var keys = Enumerable.Range(0, 3).Select(u => $"{speaker}/{speaker}_{u:000}.wav").ToArray();
            for (int i = 0; i < keys.Length; i++)
                for (int j = i + 1; j < keys.Length; j++)
                    expectedTargets.Add((keys[i], keys[j]));
        }
        Assert.Equal(expectedTargets.Order(), trials.Where(t => t.IsTarget).Select(t => (t.First.Key, t.Second.Key)).Order());
        Assert.Equal(6, trials.Count(t => !t.IsTarget));
        Assert.All(trials, t =>
        {
            Assert.Contains(t.First.SpeakerId, new[] { "spk2", "spk3" });
            Assert.Contains(t.Second.SpeakerId, new[] { "spk2", "spk3" });
            Assert.Equal(t.IsTarget, t.First.SpeakerId == t.Second.SpeakerId);
        });
        // Fixed for the whole training by ValidationSeed: the list TrialList.Generate draws with that seed.
        Assert.Equal(TrialList.Format(TrialList.Generate(data.Validation.Dataset, 3)), TrialList.Format(trials));
        Assert.Same(trials, problem.ValidationTrials);
    }

    [Fact]
    public void LossAndValidate_AnotherModel_ThrowNamingWhatWasFound()
    {
        using var data = new TwoAndTwoSpeakers();
        using var problem = new SpeakerTrainingProblem(data.Train, data.Validation, new SpeakerTrainingOptions { PairsPerEpoch = 6, PairsPerBatch = 3, MinCropFrames = 5, MaxCropFrames = 8 });
        using var scope = NewDisposeScope();
        var batch = problem.TrainBatches(1, new Random(1)).First();
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions { HiddenSize = 4, EmbeddingSize = 4 });
        using var linear = nn.Linear(3, 2);

        var loss = Assert.Throws<ArgumentException>(() => problem.Loss(encoder, batch));
        Assert.Equal("model", loss.ParamName);
        Assert.Contains("Expected a SiameseSpeakerModel, found GruSpeakerEncoder.", loss.Message);
        Assert.Contains("Expected a SiameseSpeakerModel, found null.", Assert.Throws<ArgumentException>(() => problem.Loss(null!, batch)).Message);

        var validate = Assert.Throws<ArgumentException>(() => problem.Validate(linear, CancellationToken.None));
        Assert.Equal("model", validate.ParamName);
        Assert.Contains("Expected a SiameseSpeakerModel or GruSpeakerEncoder, found Linear.", validate.Message);
        Assert.Contains("found null.", Assert.Throws<ArgumentException>(() => problem.Validate(null!, CancellationToken.None)).Message);
    }

    /// <summary>Six tiny speakers of three utterances in <paramref name="tree"/>.</summary>
    private static SpeakerDataset TinyDataset(TempTree tree)
    {
        TestModels.WriteDataset(tree.Root, speakers: 6, utterances: 3);
        return SpeakerDataset.Open(tree.Root);
    }

    /// <summary>A tiny encoder trained a few epochs on <see cref="TinyDataset"/>, a third of the speakers held out.</summary>
    private static SpeakerTrainingRequest TinyRequest(int epochs, int? averageFromEpoch = null) => new()
    {
        Encoder = new GruSpeakerEncoderOptions { HiddenSize = 8, EmbeddingSize = 8 },
        Training = new SpeakerTrainingOptions { PairsPerEpoch = 8, PairsPerBatch = 4, MinCropFrames = 8, MaxCropFrames = 12, WarpFactors = [0.9, 1.0] },
        Trainer = new TrainerOptions { Epochs = epochs, LearningRate = 1e-2, Seed = 5, AverageFromEpoch = averageFromEpoch },
        ValidationFraction = 0.34,
    };

    /// <summary>The validation EER of <paramref name="encoder"/> on the run's validation speakers, as the trainer measures it.</summary>
    private static double Revalidate(SpeakerDataset dataset, SpeakerTrainingRequest request, SpeakerTrainingResult result, GruSpeakerEncoder encoder)
    {
        using var extractor = new SpeakerFeatureExtractor(request.Features);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(result.ValidationSpeakers), extractor);
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(result.TrainSpeakers), extractor);
        using var problem = new SpeakerTrainingProblem(train, validation, request.Training);
        return problem.Validate(encoder, CancellationToken.None)["val_eer"];
    }

    /// <summary>Four tiny speakers as feature sets: spk0 and spk1 to train on, spk2 and spk3 to validate on.</summary>
    private sealed class TwoAndTwoSpeakers : IDisposable
    {
        private readonly TempTree _tree = new();
        private readonly SpeakerFeatureExtractor _extractor = new();

        public TwoAndTwoSpeakers()
        {
            TestModels.WriteDataset(_tree.Root, speakers: 4, utterances: 3, seconds: 0.5);
            var dataset = SpeakerDataset.Open(_tree.Root);
            Train = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk0", "spk1"]), _extractor);
            Validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk2", "spk3"]), _extractor);
        }

        public SpeakerFeatureSet Train { get; }

        public SpeakerFeatureSet Validation { get; }

        public void Dispose()
        {
            Train.Dispose();
            Validation.Dispose();
            _extractor.Dispose();
            _tree.Dispose();
        }
    }
}
