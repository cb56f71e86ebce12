using Dls.Models.Training;
using Dls.Speaker.Data;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Training;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

[Collection("TorchGlobalState")]
public sealed class SpeakerTrainingTests
{
    [Fact]
    public void Train_TinyDataset_RestoresBestEpochAndCalibratesThreshold()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 6, utterances: 3);
        var dataset = SpeakerDataset.Open(tree.Root);
        var request = new SpeakerTrainingRequest
        {
            Encoder = new GruSpeakerEncoderOptions { HiddenSize = 8, EmbeddingSize = 8 },
            Training = new SpeakerTrainingOptions { PairsPerEpoch = 8, PairsPerBatch = 4, MinCropFrames = 8, MaxCropFrames = 12, WarpFactors = [0.9, 1.0] },
            Trainer = new TrainerOptions { Epochs = 3, LearningRate = 1e-2, Seed = 5 },
            ValidationFraction = 0.34,
        };
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
        using var extractor = new SpeakerFeatureExtractor(request.Features);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(result.ValidationSpeakers), extractor);
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(result.TrainSpeakers), extractor);
        using var problem = new SpeakerTrainingProblem(train, validation, request.Training);
        Assert.Equal(bestEer, problem.Validate(encoder, CancellationToken.None)["val_eer"], 1e-9);
    }

    [Fact]
    public void TrainBatches_LabelsFollowIdentitiesAndStayBalancedInLoss()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 4, utterances: 3, seconds: 0.5);
        var dataset = SpeakerDataset.Open(tree.Root);
        using var extractor = new SpeakerFeatureExtractor();
        using var train = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk0", "spk1"]), extractor);
        using var validation = SpeakerFeatureSet.Load(dataset.WithSpeakers(["spk2", "spk3"]), extractor);
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
}
